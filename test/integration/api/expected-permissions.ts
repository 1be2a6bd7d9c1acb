// Who may call what, written down by hand: the table a security reviewer signs. It is NOT derived
// from the routes' declared permissions or from lib/auth/roles.ts, so a wrong declaration there
// fails test/integration/api/authorisation-table.test.ts instead of being "expected".
//
// One row per route (`METHOD /path` exactly as the route declares it) and one cell per role:
//   deny        the role is refused with 403 before the handler runs;
//   { status }  the role reaches the handler, which answers `status` to the row's request
//               (with `detail`, a 4xx must say this, proving it is the handler's answer).
// `anonymous` says whether a caller without a token may come in (`public`) or gets 401.
// Adding a route or a role: add its row or its cell here; the test names what is missing.
import type { Role } from '../../../lib/auth/roles';

export const deny = 'deny' as const;
export type Cell = typeof deny | { status: number; detail?: RegExp };

export interface Row {
  anonymous: 'public' | 'deny';
  /** What an anonymous caller of a public route gets (default 200). */
  anonymousStatus?: number;
  /** The request each caller sends: the path filled in, and a valid body where there is one. */
  request?: { path?: string; body?: unknown };
  roles: Record<Role, Cell>;
}

/** The run the table's requests address; the test creates it, started by the scientist. */
export const TABLE_RUN_ID = 'run-table-1';
const run = `/v1/runs/${TABLE_RUN_ID}`;
const ok = (status = 200): Cell => ({ status });
/** Every role with a read permission; `predictor` (an application's inference-only token) apart. */
const everyone = (cell: Cell = ok(), predictor: Cell = deny): Record<Role, Cell> => ({
  predictor,
  viewer: cell,
  scientist: cell,
  approver: cell,
  admin: cell,
});
/** `cell` for the roles named, deny for the others (the roles of everyone(): written here, not imported). */
function only(...roles: Role[]): (cell: Cell) => Record<Role, Cell> {
  return (cell) => {
    const table = everyone();
    for (const r of Object.keys(table) as Role[]) table[r] = roles.includes(r) ? cell : deny;
    return table;
  };
}
const adminOnly = only('admin');
/** Scientists and admins (starting and cancelling work). */
const starters = only('scientist', 'admin');
/** Approvers and admins (rolling out versions and overriding rollouts). */
const deployers = only('approver', 'admin');
const noModel = { status: 404, detail: /penguins-table/ };
/** A read under the table's model (which does not exist: the handler's 404 proves the role got in). */
const modelRead = (sub: string, cell: Cell = noModel): Row => ({
  anonymous: 'deny',
  request: { path: `/v1/models/penguins-table${sub}` },
  roles: everyone(cell),
});
const noDeploymentId = 'deployment-table-none';
const noDeployment = { status: 404, detail: /No deployment deployment-table-none/ };
const overrideRow = (action: string): Row => ({
  anonymous: 'deny',
  request: { path: `/v1/deployments/${noDeploymentId}/${action}`, body: { reason: 'table' } },
  roles: deployers(noDeployment),
});
const noBatchId = 'batch-table-none';
const noBatch = { status: 404, detail: /No batch prediction batch-table-none/ };
const noView = { status: 404, detail: /No feature view table_view/ };
const payloads = { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] };

export const EXPECTED_PERMISSIONS: Record<string, Row> = {
  'GET /healthz': { anonymous: 'public', roles: everyone(ok(), ok()) },
  'GET /readyz': { anonymous: 'public', roles: everyone(ok(), ok()) },
  'GET /metrics': { anonymous: 'deny', roles: everyone() },
  'GET /openapi.json': { anonymous: 'deny', roles: everyone() },
  // Any signed-in user may use the codec (Temporal UI); payload encryption is not what guards
  // approvals (the workflow checks the API's voucher), so this is safe to share.
  'POST /codec/encode': { anonymous: 'deny', request: { body: payloads }, roles: everyone() },
  'POST /codec/decode': { anonymous: 'deny', request: { body: payloads }, roles: everyone() },
  'GET /v1/whoami': { anonymous: 'deny', roles: everyone() },
  // Temporal UI sign-in: the page and sign-out are public; signing in needs a token that may read.
  'GET /v1/session': { anonymous: 'public', roles: everyone(ok(), ok()) },
  'POST /v1/session': { anonymous: 'deny', roles: everyone() },
  'DELETE /v1/session': { anonymous: 'public', anonymousStatus: 204, roles: everyone(ok(204), ok(204)) },

  'POST /v1/runs': {
    anonymous: 'deny',
    request: { body: { model: 'penguins-table', dataset: { name: 'penguins' }, target: 'species' } },
    roles: starters(ok(202)),
  },
  'GET /v1/runs': { anonymous: 'deny', roles: everyone() },
  'GET /v1/runs/:id': { anonymous: 'deny', request: { path: run }, roles: everyone() },
  'GET /v1/runs/:id/events': { anonymous: 'deny', request: { path: `${run}/events` }, roles: everyone() },
  'GET /v1/runs/:id/metrics': { anonymous: 'deny', request: { path: `${run}/metrics` }, roles: everyone() },
  // The table's run is not waiting for approval, so an allowed caller hears that from the handler.
  'POST /v1/runs/:id/approval': {
    anonymous: 'deny',
    request: { path: `${run}/approval`, body: { decision: 'approve' } },
    roles: {
      predictor: deny,
      viewer: deny,
      scientist: deny,
      approver: { status: 409, detail: /not awaiting_approval/ },
      admin: { status: 409, detail: /not awaiting_approval/ },
    },
  },
  // The scientist started the table's run (its workflow does not exist, so the handler says so).
  'POST /v1/runs/:id/cancel': {
    anonymous: 'deny',
    request: { path: `${run}/cancel`, body: {} },
    roles: starters({ status: 409, detail: /not running any more/ }),
  },

  'GET /v1/models': { anonymous: 'deny', roles: everyone() },
  'GET /v1/models/:name': modelRead(''),
  'GET /v1/models/:name/versions/:version': modelRead('/versions/1'),
  'GET /v1/models/:name/versions/:version/artifact': modelRead('/versions/1/artifact'),
  'PUT /v1/models/:name/aliases/:alias': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/aliases/staging', body: { version: 1 } },
    roles: adminOnly(noModel),
  },
  'GET /v1/models/:name/monitoring': modelRead('/monitoring'),
  'GET /v1/models/:name/monitoring/:window/html': modelRead('/monitoring/latest/html', {
    status: 404,
    detail: /No monitoring report of penguins-table/,
  }),
  'POST /v1/models/:name/monitoring/pause': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/monitoring/pause', body: {} },
    roles: starters({ status: 404, detail: /penguins-table has no monitoring schedule/ }),
  },
  'POST /v1/models/:name/monitoring/resume': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/monitoring/resume', body: {} },
    roles: starters({ status: 404, detail: /penguins-table has no monitoring schedule/ }),
  },
  'POST /v1/models/:name/retraining/pause': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/retraining/pause', body: {} },
    roles: starters({ status: 404, detail: /penguins-table has no retraining schedule/ }),
  },
  'POST /v1/models/:name/retraining/resume': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/retraining/resume', body: {} },
    roles: starters({ status: 404, detail: /penguins-table has no retraining schedule/ }),
  },
  'POST /v1/models/:name/feedback': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-table/feedback', body: { items: [{ requestId: 'r1', label: 'Adelie' }] } },
    // Labels come from the applications that asked for the predictions: whoever may infer.
    roles: { predictor: noModel, viewer: deny, scientist: noModel, approver: noModel, admin: noModel },
  },

  'POST /v1/tokens': {
    anonymous: 'deny',
    request: { body: { name: 'table', subject: 'table', role: 'viewer' } },
    roles: adminOnly(ok(201)),
  },
  'GET /v1/tokens': { anonymous: 'deny', roles: adminOnly(ok()) },
  'GET /v1/tokens/:id': {
    anonymous: 'deny',
    request: { path: '/v1/tokens/tok_doesnotexist' },
    roles: adminOnly({ status: 404, detail: /tok_doesnotexist/ }),
  },
  'DELETE /v1/tokens/:id': {
    anonymous: 'deny',
    request: { path: '/v1/tokens/tok_doesnotexist' },
    roles: adminOnly({ status: 404, detail: /tok_doesnotexist/ }),
  },

  'GET /v1/audit': { anonymous: 'deny', roles: adminOnly(ok()) },
  'GET /v1/audit/verify': { anonymous: 'deny', roles: adminOnly(ok()) },

  // The table's model has no production alias, so an allowed start hears that from the handler.
  'POST /v1/batch-predictions': {
    anonymous: 'deny',
    request: { body: { model: 'penguins-table', input: 'penguins.csv' } },
    roles: starters({ status: 422, detail: /penguins-table/ }),
  },
  'GET /v1/batch-predictions/:id': {
    anonymous: 'deny',
    request: { path: `/v1/batch-predictions/${noBatchId}` },
    roles: everyone(noBatch),
  },
  'GET /v1/batch-predictions/:id/output': {
    anonymous: 'deny',
    request: { path: `/v1/batch-predictions/${noBatchId}/output` },
    roles: everyone(noBatch),
  },
  'GET /v1/batch-predictions/:id/errors': {
    anonymous: 'deny',
    request: { path: `/v1/batch-predictions/${noBatchId}/errors` },
    roles: everyone(noBatch),
  },
  'POST /v1/batch-predictions/:id/cancel': {
    anonymous: 'deny',
    request: { path: `/v1/batch-predictions/${noBatchId}/cancel`, body: {} },
    roles: starters(noBatch),
  },

  'GET /v1/deployments': { anonymous: 'deny', roles: everyone() },
  'GET /v1/deployments/:id': {
    anonymous: 'deny',
    request: { path: `/v1/deployments/${noDeploymentId}` },
    roles: everyone(noDeployment),
  },
  'POST /v1/deployments': {
    anonymous: 'deny',
    request: { body: { model: 'penguins-table', version: 1 } },
    roles: deployers(noModel),
  },
  'POST /v1/deployments/:id/pause': overrideRow('pause'),
  'POST /v1/deployments/:id/resume': overrideRow('resume'),
  'POST /v1/deployments/:id/promote': overrideRow('promote'),
  'POST /v1/deployments/:id/abort': overrideRow('abort'),
  // A policy starts runs by itself, so setting one needs what starting a run needs.
  'PUT /v1/models/:name/policy': {
    anonymous: 'deny',
    request: {
      path: '/v1/models/penguins-table/policy',
      body: { retrain: { spec: { model: 'penguins-table', dataset: { name: 'penguins' }, target: 'species' } } },
    },
    roles: starters(ok()),
  },
  'GET /v1/models/:name/policy': {
    anonymous: 'deny',
    request: { path: '/v1/models/penguins-no-policy/policy' },
    roles: everyone({ status: 404, detail: /penguins-no-policy' has no policy/ }),
  },
  'POST /v1/datasets/:name/events': {
    anonymous: 'deny',
    request: { path: '/v1/datasets/table-none/events', body: { sha256: 'a'.repeat(64) } },
    roles: starters(ok(202)),
  },
  // No bearer token: the delivery's signature authenticates it, so a caller without one (token or
  // not) is refused by the handler with 401.
  'POST /v1/hooks/git': {
    anonymous: 'public',
    anonymousStatus: 401,
    request: { body: { ref: 'refs/heads/main' } },
    roles: everyone({ status: 401, detail: /X-Hub-Signature-256/ }, { status: 401, detail: /X-Hub-Signature-256/ }),
  },
  // Feature store: the table's view does not exist, so allowed callers hear that from the handler.
  'GET /v1/features': { anonymous: 'deny', roles: everyone() },
  'POST /v1/features': { anonymous: 'deny', request: { body: { entities: [], views: [] } }, roles: starters(ok()) },
  'GET /v1/features/:view': {
    anonymous: 'deny',
    request: { path: '/v1/features/table_view' },
    roles: everyone(noView),
  },
  'POST /v1/features/:view/materialize': {
    anonymous: 'deny',
    request: { path: '/v1/features/table_view/materialize', body: { start: '2026-01-01', end: '2026-01-02' } },
    roles: starters(noView),
  },
  'GET /v1/features/:view/materializations/:id': {
    anonymous: 'deny',
    request: { path: '/v1/features/table_view/materializations/fm-table_view-v1-none' },
    roles: everyone({ status: 404, detail: /No materialization fm-table_view-v1-none/ }),
  },
};

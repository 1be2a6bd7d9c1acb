// The live API against the hand-written authorisation table (expected-permissions.ts): every route
// the app defines, with no token and with each role's token. Allowed cells must reach the handler
// (its status, and for a 4xx its own detail); denied cells get 403. Separately, each route's
// declared permission must grant exactly the roles the table allows.
import { can, ROLES } from '../../../lib/auth/roles';
import { createRun } from '../../../lib/store/runs';
import { call, expectProblem, MINIMAL_SPEC, startTestApi, type TestApi } from './helpers';
import { deny, EXPECTED_PERMISSIONS, TABLE_RUN_ID } from './expected-permissions';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await createRun(api.store, {
    runId: TABLE_RUN_ID,
    model: 'penguins',
    spec: MINIMAL_SPEC,
    createdBy: api.subjects.scientist,
  });
});
afterAll(async () => {
  await api?.close();
});

const key = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path}`;

describe('authorisation table', () => {
  it('has a row for every route the app defines, and no row for a route it does not', () => {
    const defined = api.app.routes.map(key);
    const missing = defined.filter((k) => !(k in EXPECTED_PERMISSIONS));
    const stale = Object.keys(EXPECTED_PERMISSIONS).filter((k) => !defined.includes(k));
    expect({
      'routes without a row in test/integration/api/expected-permissions.ts (add one: per role allowed with the handler status, or deny)':
        missing,
      'rows for routes the app no longer defines (remove them)': stale,
    }).toEqual({
      'routes without a row in test/integration/api/expected-permissions.ts (add one: per role allowed with the handler status, or deny)':
        [],
      'rows for routes the app no longer defines (remove them)': [],
    });
    for (const [k, row] of Object.entries(EXPECTED_PERMISSIONS)) {
      const unlisted = ROLES.filter((role) => !(role in row.roles));
      expect({ row: k, 'roles without a cell': unlisted }).toEqual({ row: k, 'roles without a cell': [] });
    }
  });

  it("each route's declared permission grants exactly the roles the table allows", () => {
    for (const route of api.app.routes) {
      const row = EXPECTED_PERMISSIONS[key(route)];
      if (!row) continue; // reported by the test above
      const table = {
        public: row.anonymous === 'public',
        allowed: ROLES.filter((role) => row.roles[role] !== deny),
      };
      const declared = {
        public: route.permission === null,
        allowed: ROLES.filter((role) => route.permission === null || can(role, route.permission)),
      };
      expect({ route: key(route), ...declared }).toEqual({ route: key(route), ...table });
    }
  });

  it('the live API answers every route as the table says, for no token and for every role', async () => {
    for (const route of api.app.routes) {
      const row = EXPECTED_PERMISSIONS[key(route)];
      if (!row) continue;
      const path = row.request?.path ?? route.path;
      const body = row.request?.body;
      const anon = await call(api, route.method.toUpperCase(), path, { token: null, body });
      if (row.anonymous === 'deny') {
        expect({ route: key(route), anonymous: anon.status }).toEqual({ route: key(route), anonymous: 401 });
        expectProblem(anon, 401);
      } else {
        expect({ route: key(route), anonymous: anon.status }).toEqual({
          route: key(route),
          anonymous: row.anonymousStatus ?? 200,
        });
      }
      for (const role of ROLES) {
        const cell = row.roles[role];
        const r = await call(api, route.method.toUpperCase(), path, { token: api.tokens[role], body });
        const label = `${key(route)} as ${role}`;
        if (cell === deny) {
          expect({ label, status: r.status }).toEqual({ label, status: 403 });
          expect(r.body.detail).toMatch(new RegExp(`^Role ${role} may not`));
          continue;
        }
        expect({ label, status: r.status, detail: r.body?.detail }).toEqual({
          label,
          status: cell.status,
          detail: cell.detail ? expect.stringMatching(cell.detail) : r.body?.detail,
        });
      }
    }
  });
});

// The OpenAPI document against the live API, generically: every operation the document lists is
// driven on a real app (real Temporal, real MongoDB-wire) with a request the document calls
// valid, then with requests it calls invalid, derived from its schemas (a number past its bound,
// a string off its pattern or enum, a cursor that does not decode, an unknown field, a missing
// required one, an unknown query parameter on every operation, a range given in reverse). A valid request must not be refused as input (400, 413, 415); an invalid one
// must be a 400; every answer must be a status the operation declares, a problem must carry a
// type its response lists, and a JSON success must match the route's zod response schema.
// Nothing here names a route, so a route added later is covered by the same walk.
import { z } from 'zod';
import { call, expectProblem, startTestApi, type CallResult, type TestApi } from './helpers';

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Schema;
}
interface Request {
  path: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
}
interface Case {
  label: string;
  request: Request;
  valid: boolean;
  /** A name the refusal's `errors` must mention (the unknown parameter). */
  names?: string;
}

let api: TestApi;
let doc: Schema;
beforeAll(async () => {
  api = await startTestApi();
  doc = (await call(api, 'GET', '/openapi.json', { token: api.tokens.admin })).body;
});
afterAll(async () => {
  await api?.close();
});

/** Values tried, in order, for a string the schema constrains by pattern or length. */
const STRINGS = [
  'penguins',
  'run-contract-1',
  'tok_contract1',
  'production',
  'train',
  'run.approve',
  '1',
  'x',
  'data.csv',
  '0'.repeat(64), // a sha256 (dataset events)
];
/** Strings tried, in order, to break a pattern (none of them changes the URL's path when encoded). */
const OFF_PATTERN = ['!', '0', ' x', 'A', '-'];

const base64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function fitsString(s: Schema, v: string): boolean {
  return (
    (!s.pattern || new RegExp(s.pattern).test(v)) &&
    v.length >= (s.minLength ?? 0) &&
    v.length <= (s.maxLength ?? Infinity)
  );
}

/** A value the schema accepts: required properties only, the first branch of a union, bounds respected. */
function sample(s: Schema): unknown {
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  // A union picks its first branch; an object's anyOf is a rule over its properties (they satisfy it).
  if (s.anyOf && !s.type) return sample(s.anyOf[0]);
  if (s.allOf) return Object.assign({}, ...s.allOf.map(sample));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.contentSchema) return base64url(sample(s.contentSchema));
      if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
      if (s.pattern || s.minLength > 1) {
        const v = STRINGS.find((c) => fitsString(s, c));
        if (v === undefined) throw new Error(`no sample string fits ${JSON.stringify(s)}: add one to STRINGS`);
        return v;
      }
      return 'x';
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    case 'array':
      return s.prefixItems ? s.prefixItems.map(sample) : Array.from({ length: s.minItems ?? 0 }, () => sample(s.items));
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k: string) => [k, sample(s.properties[k])]));
    default:
      return null;
  }
}

/** Values at the schema's edges: inside (valid) and just past (invalid) each bound it states. */
function edges(s: Schema): { label: string; value: unknown; valid: boolean }[] {
  const out: { label: string; value: unknown; valid: boolean }[] = [];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'integer' || type === 'number') {
    if (s.minimum !== undefined) {
      out.push({ label: `minimum ${s.minimum}`, value: s.minimum, valid: true });
      out.push({ label: `below minimum ${s.minimum}`, value: s.minimum - 1, valid: false });
    }
    if (s.maximum !== undefined) {
      out.push({ label: `maximum ${s.maximum}`, value: s.maximum, valid: true });
      out.push({ label: `above maximum ${s.maximum}`, value: s.maximum + 1, valid: false });
    }
    if (s.exclusiveMinimum !== undefined) {
      out.push({ label: `at exclusiveMinimum ${s.exclusiveMinimum}`, value: s.exclusiveMinimum, valid: false });
    }
    if (s.exclusiveMaximum !== undefined) {
      out.push({ label: `at exclusiveMaximum ${s.exclusiveMaximum}`, value: s.exclusiveMaximum, valid: false });
    }
    if (type === 'integer') out.push({ label: 'not an integer', value: (s.minimum ?? 1) + 0.5, valid: false });
  }
  if (type === 'string') {
    if (s.enum) out.push({ label: 'outside the enum', value: 'not-a-listed-value', valid: false });
    if (s.pattern) {
      const off = OFF_PATTERN.find((v) => !new RegExp(s.pattern).test(v));
      if (off !== undefined) out.push({ label: `off pattern ${s.pattern}`, value: off, valid: false });
    } else if (s.maxLength !== undefined && !s.enum && !s.format) {
      out.push({ label: `maxLength ${s.maxLength}`, value: 'x'.repeat(s.maxLength), valid: true });
      out.push({ label: `longer than ${s.maxLength}`, value: 'x'.repeat(s.maxLength + 1), valid: false });
    }
    if (s.contentSchema) out.push({ label: 'content that does not decode', value: 'abc', valid: false });
  }
  return out;
}

/** Invalid variants of a JSON body (and valid ones at its bounds), down to `depth` levels of objects. */
function bodyCases(s: Schema, value: Record<string, unknown>, at: string[] = [], depth = 2): Case[] {
  const cases: Case[] = [];
  const put = (path: string[], v: unknown): unknown => {
    const copy = structuredClone(value);
    let o: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[path[path.length - 1]] = v;
    return copy;
  };
  const label = (path: string[]) => `body.${[...at, ...path].join('.') || '(root)'}`;
  const req = (body: unknown): Request => ({ path: {}, query: {}, body });
  if (s.additionalProperties === false) {
    cases.push({ label: `${label([])}: unknown field`, request: req({ ...value, unexpectedField: 1 }), valid: false });
  }
  for (const k of s.required ?? []) {
    const { [k]: _dropped, ...rest } = value;
    void _dropped;
    cases.push({ label: `${label([k])}: missing required`, request: req(rest), valid: false });
  }
  for (const [k, child] of Object.entries<Schema>(s.properties ?? {})) {
    const childType = Array.isArray(child.type) ? child.type[0] : child.type;
    for (const e of edges(child)) {
      cases.push({ label: `${label([k])}: ${e.label}`, request: req(put([k], e.value)), valid: e.valid });
    }
    if (childType === 'object' && child.properties && depth > 1) {
      const present = (value[k] ?? sample(child)) as Record<string, unknown>;
      for (const c of bodyCases(child, present, [...at, k], depth - 1)) {
        cases.push({ ...c, request: req(put([k], c.request.body)) });
      }
    }
  }
  return cases;
}

function casesOf({ op }: Operation): Case[] {
  const params: Schema[] = op.parameters ?? [];
  const pathParams = Object.fromEntries(
    params.filter((p) => p.in === 'path').map((p) => [p.name, String(sample(p.schema))])
  );
  const query = Object.fromEntries(
    params.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, String(sample(p.schema))])
  );
  const bodySchema: Schema | undefined = op.requestBody?.content?.['application/json']?.schema;
  const body = bodySchema ? sample(bodySchema) : undefined;
  const valid: Request = { path: pathParams, query, body };
  const cases: Case[] = [{ label: 'a valid request', request: valid, valid: true }];
  for (const p of params) {
    if (p.in === 'path' || p.in === 'query') {
      const where = p.in === 'path' ? 'path' : 'query';
      if (p.in === 'query' && !p.required) {
        cases.push({
          label: `query.${p.name}: a valid value`,
          request: { ...valid, query: { ...query, [p.name]: String(sample(p.schema)) } },
          valid: true,
        });
      }
      for (const e of edges(p.schema)) {
        cases.push({
          label: `${where}.${p.name}: ${e.label}`,
          request: { ...valid, [where]: { ...valid[where], [p.name]: String(e.value) } },
          valid: e.valid,
        });
      }
    }
  }
  // A range rule the document states as `x-before` (JSON Schema cannot compare two values): in order, then reversed.
  for (const p of params.filter((x) => x.in === 'query' && x.schema['x-before'])) {
    const [early, late] =
      p.schema.format === 'date-time' ? ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'] : ['1', '2'];
    const hi: string = p.schema['x-before'];
    for (const [lo, up, ok] of [
      [early, late, true],
      [late, early, false],
      [early, early, false],
    ] as const) {
      cases.push({
        label: `query.${p.name} ${ok ? 'before' : 'not before'} query.${hi}`,
        request: { ...valid, query: { ...query, [p.name]: lo, [hi]: up } },
        valid: ok,
      });
    }
  }
  // Every operation, with query parameters or without, refuses one it does not list.
  if (op['x-unknown-query-parameters'] !== 'refused')
    throw new Error(`${op.operationId}: unknown query rule not stated`);
  cases.push({
    label: 'query: an unknown parameter',
    request: { ...valid, query: { ...query, unexpectedParameter: '1' } },
    valid: false,
    names: 'unexpectedParameter',
  });
  // A body the document calls optional may be left out (the handler gets its defaults).
  if (op.requestBody && !op.requestBody.required) {
    cases.push({ label: 'no body (optional)', request: { ...valid, body: undefined }, valid: true });
  }
  if (bodySchema && typeof body === 'object' && body !== null) {
    for (const c of bodyCases(bodySchema, body as Record<string, unknown>)) {
      cases.push({ ...c, request: { ...valid, body: c.request.body } });
    }
  }
  return cases;
}

function operations(): Operation[] {
  return Object.entries<Schema>(doc.paths).flatMap(([path, item]) =>
    Object.entries<Schema>(item).map(([method, op]) => ({ method, path, op }))
  );
}

async function send({ method, path }: Operation, r: Request): Promise<CallResult> {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(r.path[name]));
  const qs = new URLSearchParams(r.query).toString();
  return call(api, method.toUpperCase(), filled + (qs ? `?${qs}` : ''), {
    token: api.tokens.admin,
    ...(r.body !== undefined ? { body: r.body } : {}),
  });
}

/** Disagreements of one answer with the document, for a request the document calls valid or not. */
function disagreements(o: Operation, c: Case, r: CallResult): string[] {
  const where = `${o.method.toUpperCase()} ${o.path}, ${c.label}: ${r.status} ${r.body?.detail ?? ''}`.trim();
  const response = o.op.responses[String(r.status)];
  if (!response) return [`${where}: status not declared`];
  const found: string[] = [];
  // Domain answers (404 for an unknown id, 409, 422, 503) are fine for a valid request; refusing its input is not.
  if (c.valid && [400, 413, 415].includes(r.status)) found.push(`${where}: valid by the document, refused`);
  if (!c.valid && r.status !== 400) found.push(`${where}: invalid by the document, not refused with a 400`);
  if (c.names && !JSON.stringify(r.body?.errors ?? []).includes(c.names))
    found.push(`${where}: errors do not name ${c.names}`);
  const problem = response.content?.['application/problem+json']?.schema;
  if (problem) {
    expectProblem(r, r.status);
    if (!problem.properties.type.enum.includes(r.body.type))
      found.push(`${where}: problem type ${r.body.type} not listed`);
    return found;
  }
  const route = api.app.routes.find((x) => x.operationId === o.op.operationId);
  const schema = route?.responses[r.status]?.schema;
  if (schema && response.content?.['application/json']) {
    const parsed = (schema as z.ZodTypeAny).safeParse(r.body);
    if (!parsed.success)
      found.push(`${where}: body does not match: ${JSON.stringify(parsed.error.issues.slice(0, 3))}`);
  }
  return found;
}

describe('the OpenAPI document and the server agree', () => {
  it('documents every operation the app mounts, and every link names an operation', () => {
    const ops = operations();
    expect(ops.map((o) => o.op.operationId).sort()).toEqual(api.app.routes.map((r) => r.operationId).sort());
    const ids = new Set(ops.map((o) => o.op.operationId));
    for (const o of ops) {
      for (const res of Object.values<Schema>(o.op.responses)) {
        for (const link of Object.values<Schema>(res.links ?? {})) expect(ids.has(link.operationId)).toBe(true);
      }
    }
  });

  it('answers every operation as its document says, for valid and for invalid inputs', async () => {
    let driven = 0;
    const found: string[] = [];
    for (const o of operations()) {
      for (const c of casesOf(o)) {
        found.push(...disagreements(o, c, await send(o, c.request)));
        driven++;
      }
    }
    expect(found).toEqual([]);
    expect(driven).toBeGreaterThan(operations().length);
  }, 600_000);
});

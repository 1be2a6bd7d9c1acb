// Pure pieces of the API: JSON shape limits, query parsing, cursors, roles, token hashing,
// log scrubbing, the failure limiter, the zod -> JSON Schema converter and the audit hash.
import { z } from 'zod';
import { can, PERMISSIONS, rolesWith, ROLES } from '../../../lib/auth/roles';
import { generateToken, hashToken, looksLikeToken } from '../../../lib/auth/tokens';
import { canonicalJson as canonical } from '../../../lib/crypto/canonical-json';
import { entryHash } from '../../../lib/store/audit';
import { bucketOf } from '../../../lib/store/run-index';
import { ProblemError } from '../../../api/errors';
import { createLogger } from '../../../lib/telemetry/logger';
import { FailureLimiter } from '../../../api/rate-limit';
import { checkJsonShape, encodeCursor, q } from '../../../api/validation';
import { toJsonSchema } from '../../../api/zod-json-schema';
import { runSpecSchema } from '../../../lib/spec';

function problemOf(fn: () => void): { status: number; detail: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProblemError) return { status: err.problem.status, detail: err.problem.detail };
    throw err;
  }
  throw new Error('expected a problem');
}

describe('checkJsonShape', () => {
  it('accepts ordinary bodies', () => {
    expect(() => checkJsonShape({ a: [1, 2, { b: 'c' }], d: null })).not.toThrow();
  });
  it('refuses operator and prototype keys at any depth, naming the path', () => {
    expect(problemOf(() => checkJsonShape({ a: { b: [{ $gt: 1 }] } }))).toMatchObject({
      status: 400,
      detail: expect.stringContaining('a.b[0].$gt'),
    });
    expect(problemOf(() => checkJsonShape(JSON.parse('{"__proto__": {"x": 1}}'))).status).toBe(400);
    expect(problemOf(() => checkJsonShape({ constructor: 1 })).status).toBe(400);
  });
  it('caps depth, keys, array length and string size with 413', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(problemOf(() => checkJsonShape(deep)).status).toBe(413);
    expect(problemOf(() => checkJsonShape({ a: 'x'.repeat(70_000) })).status).toBe(413);
    expect(problemOf(() => checkJsonShape(new Array(10_001).fill(0))).status).toBe(413);
    const wide = Object.fromEntries(Array.from({ length: 2_001 }, (_, i) => [`k${i}`, i]));
    expect(problemOf(() => checkJsonShape(wide)).status).toBe(413);
  });
});

describe('cursors', () => {
  it('round-trip and refuse tampering, documenting what they are', () => {
    const cursor = q.cursor(z.object({ skip: z.number().int() }));
    expect(cursor.parse(encodeCursor({ skip: 40 }))).toEqual({ skip: 40 });
    expect(cursor.safeParse(encodeCursor({ skip: 'x' })).success).toBe(false);
    expect(cursor.safeParse('not-base64-json').success).toBe(false);
    expect(cursor.safeParse('a b').success).toBe(false);
    expect(toJsonSchema(cursor)).toMatchObject({
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+$',
      contentEncoding: 'base64url',
      contentSchema: { type: 'object', properties: { skip: { type: 'integer' } } },
    });
  });
});

describe('roles', () => {
  it('grant what the issue lists', () => {
    expect(can('viewer', 'read')).toBe(true);
    expect(can('viewer', 'runs:start')).toBe(false);
    expect(can('scientist', 'runs:start') && can('scientist', 'runs:cancel')).toBe(true);
    expect(can('scientist', 'runs:approve')).toBe(false);
    expect(can('approver', 'runs:approve')).toBe(true);
    expect(can('approver', 'runs:start')).toBe(false);
    for (const r of ROLES) expect(can(r, 'read')).toBe(r !== 'predictor');
    expect(rolesWith('tokens:manage')).toEqual(['admin']);
    // Applications' tokens may infer and do nothing else; scientists and above may also infer.
    expect(rolesWith('infer')).toEqual(['predictor', 'scientist', 'approver', 'admin']);
    expect(PERMISSIONS.filter((p) => can('predictor', p))).toEqual(['infer']);
  });
});

describe('tokens', () => {
  it('are 256-bit, well-formed, and hashed with sha256', () => {
    const t = generateToken();
    expect(looksLikeToken(t)).toBe(true);
    expect(generateToken()).not.toBe(t);
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).toBe(hashToken(t));
  });
});

describe('logger', () => {
  it('scrubs secret values and token-shaped strings from any field or message', () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: ['mongodb://user:hunter2@db'], write: (l) => lines.push(l) });
    const token = generateToken();
    log.info('connect mongodb://user:hunter2@db failed', { detail: `bearer ${token}` });
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toContain(token);
    expect(lines[0]).toContain('mlops_<redacted>');
  });

  it('redacts fields named like credentials whatever their value', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.warn('login', { password: 'pw-1', req: { authorization: 'Basic abc' }, user: 'ada' });
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', msg: 'login', password: '<redacted>', user: 'ada' });
    expect(line.req).toEqual({ authorization: '<redacted>' });
  });
});

describe('FailureLimiter', () => {
  it('blocks after max failures until the window ends', () => {
    let now = 0;
    const l = new FailureLimiter(2, 60_000, () => now);
    l.recordFailure('a');
    expect(l.blockedFor('a')).toBe(0);
    l.recordFailure('a');
    expect(l.blockedFor('a')).toBe(60);
    expect(l.blockedFor('b')).toBe(0);
    now = 60_000;
    expect(l.blockedFor('a')).toBe(0);
  });
});

describe('toJsonSchema', () => {
  it('documents the run spec: required fields, strict objects, defaults, enums', () => {
    const s = toJsonSchema(runSpecSchema) as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { properties?: Record<string, { default?: unknown; enum?: string[] }> }>;
    };
    expect(s.required).toEqual(['model', 'dataset', 'target']);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.trainer.properties!.epochs.default).toBe(60);
    expect(s.properties.trainer.properties!.model.enum).toEqual(['linear', 'mlp']);
  });

  // The two forms zod-to-json-schema writes otherwise (see the header of api/zod-json-schema.ts).
  it('writes the 2020-12 forms OpenAPI 3.1 reads: numeric exclusive bounds, prefixItems tuples', () => {
    expect(toJsonSchema(z.number().gt(0).lt(1))).toEqual({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 });
    expect(toJsonSchema(z.tuple([z.number().int(), z.string()]))).toEqual({
      type: 'array',
      prefixItems: [{ type: 'integer' }, { type: 'string' }],
      minItems: 2,
      maxItems: 2,
    });
  });
});

describe('audit hash', () => {
  it('is over canonical JSON: key order does not matter, content does', () => {
    expect(canonical({ b: 1, a: [new Date(0), { d: 1, c: 2 }] })).toBe(
      '{"a":["1970-01-01T00:00:00.000Z",{"c":2,"d":1}],"b":1}'
    );
    const body = {
      seq: 1,
      at: new Date(0),
      actor: null,
      action: 'run.start',
      object: { type: 'run', id: 'r' },
      outcome: 'ok' as const,
      prevHash: '0'.repeat(64),
    };
    expect(entryHash(body)).toBe(entryHash({ ...body }));
    expect(entryHash({ ...body, object: { type: 'run', id: 's' } })).not.toBe(entryHash(body));
  });
});

describe('run index buckets', () => {
  it('are hours for all and status keys, days for model keys', () => {
    const t = Date.UTC(2026, 10, 22, 15, 30);
    expect(bucketOf('all', t)).toBe('2026112215');
    expect(bucketOf('status:running', t)).toBe('2026112215');
    expect(bucketOf('model:penguins', t)).toBe('20261122');
  });
});

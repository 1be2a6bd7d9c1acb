// GET /v1/runs/{id} answers with every field a run document can hold, so its response schema
// (the OpenAPI document) must declare every one: a run document with all of them filled in goes
// through runDetail, and no property of the answer, at any depth, may be missing from the schema.
// (The contract test drives that route with an unknown id, a 404, so it never sees a run.)
import { z } from 'zod';
import { runDetail, runDetailSchema } from '../../../api/routes/run-views';
import type { RunDoc } from '../../../lib/store/runs';

/** Paths of `value` that `schema` does not declare (objects that pass unknown keys through excepted). */
function undeclared(schema: z.ZodTypeAny, value: unknown, at = ''): string[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault)
    return value == null ? [] : undeclared(schema._def.innerType, value, at);
  if (schema instanceof z.ZodEffects) return undeclared(schema._def.schema, value, at);
  if (schema instanceof z.ZodArray && Array.isArray(value))
    return value.flatMap((v, i) => undeclared(schema.element, v, `${at}[${i}]`));
  if (schema instanceof z.ZodUnion || schema instanceof z.ZodDiscriminatedUnion) {
    const options = [...(schema.options as z.ZodTypeAny[])].filter((o) => o.safeParse(value).success);
    return options.length ? undeclared(options[0], value, at) : [`${at} (matches no option)`];
  }
  if (schema instanceof z.ZodObject && value && typeof value === 'object') {
    const shape = schema.shape as Record<string, z.ZodTypeAny>;
    return Object.entries(value).flatMap(([k, v]) => {
      if (shape[k]) return undeclared(shape[k], v, `${at}.${k}`);
      return schema._def.unknownKeys === 'passthrough' ? [] : [`${at}.${k}`];
    });
  }
  return [];
}

const at = new Date('2026-01-02T03:04:05Z');
/** Every field of RunDoc (`Required` makes the typecheck name a field added later). */
const doc: Required<RunDoc> = {
  _id: 'run-1',
  runId: 'run-1',
  model: 'penguins',
  spec: { model: 'penguins', dataset: { name: 'penguins' }, target: 'species' },
  status: 'succeeded',
  stage: 'done',
  createdAt: at,
  updatedAt: at,
  startedAt: at,
  endedAt: at,
  durationMs: 1000,
  task: 'classification',
  dataset: { sha256: 'a'.repeat(64), rows: 344, bytes: 1000, format: 'csv', source: 'bundled', uri: 'x' },
  registered: { name: 'penguins', version: 2 },
  metrics: { accuracy: 0.9 },
  champion: { version: 1, metrics: { accuracy: 0.88 } },
  gate: {
    passed: true,
    reason: '',
    checks: [],
    heldOut: { basis: 'unseen', rows: 60, excludedRows: 26 },
  },
  approval: { decision: 'approve', approver: 'ann', comment: 'ok', at },
  pendingApproval: null,
  optimisation: { trials: 4 },
  promotion: { production: 2 },
  training: { epochsRun: 10, resumedFromEpoch: 3, bestEpoch: 8 },
  error: null,
  createdBy: 'sam',
  triggers: [
    { kind: 'schedule', scheduleId: 'retrain-penguins', at: at.toISOString() },
    { kind: 'data', dataset: 'penguins', sha256: 'b'.repeat(64), at: at.toISOString() },
    {
      kind: 'commit',
      repository: 'acme/penguins',
      branch: 'main',
      sha: 'c'.repeat(40),
      deliveryId: 'd1',
      at: at.toISOString(),
    },
    { kind: 'drift', reportId: 'penguins:1', at: at.toISOString() },
  ],
};

describe('run detail response schema', () => {
  it('declares every property runDetail answers with, triggers and gate.heldOut included', () => {
    const body = JSON.parse(JSON.stringify({ ...runDetail(doc), live: null }));
    expect(runDetailSchema.safeParse(body).error?.issues).toBeUndefined();
    expect(undeclared(runDetailSchema, body)).toEqual([]);
    expect(body.triggers).toHaveLength(4);
    expect(body.gate.heldOut).toEqual({ basis: 'unseen', rows: 60, excludedRows: 26 });
  });
});

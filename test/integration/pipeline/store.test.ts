// The pipeline's store modules against the real MongoDB-wire server: chunked content-addressed
// artifacts with integrity checks, one version per run under concurrency, atomic alias moves.
import { randomBytes } from 'node:crypto';
import { Binary } from 'mongodb';
import {
  ARTIFACT_CHUNKS,
  ArtifactIntegrityError,
  CHUNK_SIZE,
  MEDIA,
  putArtifact,
  readArtifact,
} from '../../../lib/store/artifacts';
import { openStore, type Store } from '../../../lib/store/db';
import { getRunEvents, recordStepEnd, recordStepStart } from '../../../lib/store/events';
import {
  getAliasHistory,
  getModel,
  listModelVersions,
  moveAlias,
  registerModelVersion,
  type ModelLineage,
} from '../../../lib/store/models';
import { ensurePipelineIndexes } from '../../../lib/store/pipeline';
import { createRun, listRuns, updateRun } from '../../../lib/store/runs';
import { testConfig } from '../harness/env';

let store: Store;
beforeAll(async () => {
  store = await openStore(testConfig());
  await ensurePipelineIndexes(store.db);
});
afterAll(async () => {
  await store?.close();
});

const lineage = (runId: string): ModelLineage => ({
  datasetSha256: 'a'.repeat(64),
  datasetSource: 'bundled:penguins',
  datasetRows: 1,
  spec: {},
  codeVersion: 'test',
  parentRun: runId,
  trainer: {},
  features: [],
  target: 'y',
  task: 'classification',
  artifacts: {},
});

describe('artifacts', () => {
  it('stores multi-chunk artifacts once and verifies them on read, naming a tampered one', async () => {
    const bytes = randomBytes(CHUNK_SIZE * 2 + 123);
    const ref = await putArtifact(store, bytes, MEDIA.onnx);
    expect(await putArtifact(store, bytes, MEDIA.onnx)).toEqual(ref); // idempotent
    expect(ref.uri).toBe(`artifact://sha256/${ref.sha256}`);
    expect((await readArtifact(store, ref)).equals(bytes)).toBe(true);
    expect(await store.db.collection(ARTIFACT_CHUNKS).countDocuments({ sha256: ref.sha256 })).toBe(3);

    const tampered = Buffer.from(bytes.subarray(CHUNK_SIZE, CHUNK_SIZE * 2));
    tampered[10] ^= 0xff;
    await store.db
      .collection(ARTIFACT_CHUNKS)
      .updateOne({ _id: `${ref.sha256}:1` as never }, { $set: { data: new Binary(tampered) } });
    const err = await readArtifact(store, ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactIntegrityError);
    expect((err as Error).message).toContain(`artifact ${ref.uri} failed its integrity check`);
  });
});

describe('registry', () => {
  it('gives each run exactly one version, also when registrations race', async () => {
    const name = `race-${Date.now()}`;
    const input = (runId: string) => ({ name, runId, metrics: {}, artifacts: {}, lineage: lineage(runId) });
    const results = await Promise.all([
      registerModelVersion(store, input('r1')),
      registerModelVersion(store, input('r2')),
      registerModelVersion(store, input('r1')),
      registerModelVersion(store, input('r3')),
      registerModelVersion(store, input('r2')),
    ]);
    const byRun = new Map<string, Set<number>>();
    for (const r of results)
      byRun.set(r.version.runId, (byRun.get(r.version.runId) ?? new Set()).add(r.version.version));
    for (const versions of byRun.values()) expect(versions.size).toBe(1);
    const versions = await listModelVersions(store, name);
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(new Set(versions.map((v) => v.runId))).toEqual(new Set(['r1', 'r2', 'r3']));
    expect((await getModel(store, name))?.latestVersion).toBe(3);
  });

  it('moves aliases atomically, records the previous holder, and ignores a repeated move', async () => {
    const name = `alias-${Date.now()}`;
    for (const runId of ['a', 'b'])
      await registerModelVersion(store, { name, runId, metrics: {}, artifacts: {}, lineage: lineage(runId) });
    const first = await moveAlias(store, { name, alias: 'production', version: 1, by: 'alice' });
    expect(first).toMatchObject({ moved: true, previous: null });
    const second = await moveAlias(store, { name, alias: 'production', version: 2, by: 'bob' });
    expect(second).toMatchObject({ moved: true, previous: { version: 1, runId: 'a' } });
    expect(await moveAlias(store, { name, alias: 'production', version: 2, by: 'bob' })).toMatchObject({
      moved: false,
    });
    // Two movers at once: both succeed in some order, the alias ends on one of them, history has both.
    await Promise.all([
      moveAlias(store, { name, alias: 'staging', version: 1, by: 'x' }),
      moveAlias(store, { name, alias: 'staging', version: 2, by: 'y' }),
    ]);
    const model = await getModel(store, name);
    expect(model?.aliases.production).toMatchObject({ version: 2, by: 'bob', previous: { version: 1 } });
    expect([1, 2]).toContain(model?.aliases.staging.version);
    const history = await getAliasHistory(store, name);
    expect(history.filter((h) => h.alias === 'production').map((h) => h.version)).toEqual([2, 1]);
    expect(history.filter((h) => h.alias === 'staging')).toHaveLength(2);
    await expect(moveAlias(store, { name, alias: 'production', version: 9, by: 'z' })).rejects.toThrow(
      /has no version 9/
    );
  });
});

describe('runs and events', () => {
  it('records one event per (run, step, attempt) and pages runs newest first', async () => {
    const model = `m-${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await createRun(store, { runId: `${model}-${i}`, model, spec: {}, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) });
    }
    await createRun(store, { runId: `${model}-0`, model, spec: { again: true } }); // idempotent
    await updateRun(store, `${model}-4`, { status: 'succeeded' });
    const p1 = await listRuns(store, { model, limit: 2 });
    expect(p1.items.map((r) => r.runId)).toEqual([`${model}-4`, `${model}-3`]);
    const p2 = await listRuns(store, { model, limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((r) => r.runId)).toEqual([`${model}-2`, `${model}-1`]);
    expect((await listRuns(store, { model, status: 'succeeded' })).items.map((r) => r.runId)).toEqual([`${model}-4`]);

    const runId = `${model}-0`;
    const startedAt = new Date();
    await recordStepStart(store, { runId, step: 'train', attempt: 1, at: startedAt });
    await recordStepStart(store, { runId, step: 'train', attempt: 1, at: startedAt });
    await recordStepEnd(store, {
      runId,
      step: 'train',
      attempt: 1,
      status: 'failed',
      startedAt,
      error: { message: 'lost' },
    });
    await recordStepStart(store, { runId, step: 'train', attempt: 2 });
    await recordStepEnd(store, { runId, step: 'train', attempt: 2, status: 'completed', startedAt: new Date() });
    const events = await getRunEvents(store, runId);
    expect(events.map((e) => [e.step, e.attempt, e.status])).toEqual([
      ['train', 1, 'failed'],
      ['train', 2, 'completed'],
    ]);
  });
});

// Model registry through the API: versions, audited alias moves with the previous holder,
// refusal of unapproved versions for production, and artifact downloads that detect
// tampering with the stored bytes.
import { createHash } from 'node:crypto';
import { deploySchema } from '../../../lib/spec/deploy';
import { ARTIFACT_CHUNKS, MEDIA, putArtifact, type ArtifactRef } from '../../../lib/store/artifacts';
import { createDeployment } from '../../../lib/store/deployment-records';
import { registerModelVersion, updateModelVersion, type ModelLineage } from '../../../lib/store/models';
import { call, expectProblem, startTestApi, type TestApi } from './helpers';

let api: TestApi;
let onnx: ArtifactRef;
const bytes = Buffer.alloc(600 * 1024); // three chunks

function lineage(runId: string, ref: ArtifactRef): ModelLineage {
  return {
    datasetSha256: 'd'.repeat(64),
    datasetSource: 'bundled:penguins',
    datasetRows: 344,
    spec: {},
    codeVersion: 'test',
    parentRun: runId,
    trainer: {},
    features: [],
    target: 'species',
    task: 'classification',
    artifacts: { onnx: ref.sha256 },
  };
}

const register = (name: string, runId: string) =>
  registerModelVersion(api.store, {
    name,
    runId,
    metrics: { accuracy: 0.9 },
    artifacts: { onnx },
    lineage: lineage(runId, onnx),
  });

beforeAll(async () => {
  api = await startTestApi();
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  onnx = await putArtifact(api.store, bytes, MEDIA.onnx);
  for (const runId of ['run-m1', 'run-m2', 'run-m3']) await register('penguins', runId);
  await updateModelVersion(api.store, 'penguins', 1, { status: 'approved' });
  await updateModelVersion(api.store, 'penguins', 2, { status: 'approved' });
  await updateModelVersion(api.store, 'penguins', 3, { status: 'rejected' });
});
afterAll(async () => {
  await api?.close();
});

describe('registry reads', () => {
  it('lists models and shows versions with lineage', async () => {
    const list = await call(api, 'GET', '/v1/models', { token: api.tokens.viewer });
    expect(list.body.items).toEqual([expect.objectContaining({ name: 'penguins', latestVersion: 3 })]);
    const model = await call(api, 'GET', '/v1/models/penguins?limit=2', { token: api.tokens.viewer });
    expect(model.body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    const next = await call(api, 'GET', `/v1/models/penguins?limit=2&cursor=${model.body.nextCursor}`, {
      token: api.tokens.viewer,
    });
    expect(next.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const v = await call(api, 'GET', '/v1/models/penguins/versions/2', { token: api.tokens.viewer });
    expect(v.body).toMatchObject({ name: 'penguins', version: 2, runId: 'run-m2', lineage: { parentRun: 'run-m2' } });
    expectProblem(await call(api, 'GET', '/v1/models/penguins/versions/9', { token: api.tokens.viewer }), 404);
    expectProblem(await call(api, 'GET', '/v1/models/nope', { token: api.tokens.viewer }), 404);
  });
});

describe('alias moves', () => {
  it('moves production, records the previous holder and audits each move', async () => {
    const first = await call(api, 'PUT', '/v1/models/penguins/aliases/production', {
      token: api.tokens.admin,
      body: { version: 1 },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ moved: true, holder: { version: 1, by: 'admin' }, previous: null });
    const second = await call(api, 'PUT', '/v1/models/penguins/aliases/production', {
      token: api.tokens.admin,
      body: { version: 2, reason: 'better recall' },
    });
    expect(second.body).toMatchObject({ moved: true, holder: { version: 2 }, previous: { version: 1 } });
    const again = await call(api, 'PUT', '/v1/models/penguins/aliases/production', {
      token: api.tokens.admin,
      body: { version: 2 },
    });
    expect(again.body.moved).toBe(false);

    const audit = await call(api, 'GET', '/v1/audit?action=model.alias.move&objectId=penguins', {
      token: api.tokens.admin,
    });
    expect(audit.body.items.map((e: { details: unknown }) => e.details)).toEqual([
      { alias: 'production', version: 2, previous: 1, reason: 'better recall' },
      { alias: 'production', version: 1, previous: null },
    ]);
    const model = await call(api, 'GET', '/v1/models/penguins', { token: api.tokens.viewer });
    expect(model.body.aliases.production).toMatchObject({ version: 2, previous: { version: 1 } });
  });

  it('refuses rejected versions and non-admin roles', async () => {
    const rejected = await call(api, 'PUT', '/v1/models/penguins/aliases/staging', {
      token: api.tokens.admin,
      body: { version: 3 },
    });
    expectProblem(rejected, 409);
    expect(rejected.body.versionStatus).toBe('rejected');
    for (const role of ['viewer', 'scientist', 'approver'] as const) {
      expectProblem(
        await call(api, 'PUT', '/v1/models/penguins/aliases/production', {
          token: api.tokens[role],
          body: { version: 1 },
        }),
        403
      );
    }
    expectProblem(
      await call(api, 'PUT', '/v1/models/penguins/aliases/Prod!', { token: api.tokens.admin, body: { version: 1 } }),
      400
    );
  });
});

describe('artifact download', () => {
  it('returns the bytes with their digest', async () => {
    const res = await fetch(`${api.url}/v1/models/penguins/versions/1/artifact`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(bytes)).toBe(true);
    const sha = createHash('sha256').update(body).digest();
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${sha.toString('base64')}:`);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="penguins-v1-onnx.onnx"');
    expectProblem(
      await call(api, 'GET', '/v1/models/penguins/versions/1/artifact?role=serving', { token: api.tokens.viewer }),
      404
    );
  });

  it('detects tampering with the stored bytes and sends nothing', async () => {
    const chunk = await api.store.db.collection(ARTIFACT_CHUNKS).findOne({ _id: `${onnx.sha256}:1` as never });
    expect(chunk).not.toBeNull();
    const data = Buffer.from((chunk!.data as { buffer: Uint8Array }).buffer);
    data[100] ^= 0xff;
    await api.store.db.collection(ARTIFACT_CHUNKS).updateOne({ _id: `${onnx.sha256}:1` as never }, { $set: { data } });

    const r = await call(api, 'GET', '/v1/models/penguins/versions/2/artifact', { token: api.tokens.viewer });
    expectProblem(r, 500);
    expect(r.body.type).toMatch(/integrity-error$/);
    expect(r.body.artifact).toBe(`artifact://sha256/${onnx.sha256}`);
    expect(r.body.detail).toContain(onnx.sha256);
    const audit = await call(api, 'GET', '/v1/audit?action=artifact.integrity_failure', { token: api.tokens.admin });
    expect(audit.body.items[0]).toMatchObject({ outcome: 'failed', details: { version: 2, role: 'onnx' } });

    // A deleted chunk is caught too.
    await api.store.db.collection(ARTIFACT_CHUNKS).deleteOne({ _id: `${onnx.sha256}:2` as never });
    expectProblem(await call(api, 'GET', '/v1/models/penguins/versions/2/artifact', { token: api.tokens.viewer }), 500);
  });
});

describe('full pages', () => {
  // A page of the largest size must still point at the next one: the API asks the store for
  // one row more than the limit, and a store bound at the API's own maximum used to eat it.
  it('gives a nextCursor after a page of limit=100 for models, versions and deployments', async () => {
    const deploy = (i: number, model: string, version: number, runId: string) =>
      createDeployment(api.store, {
        _id: `dep-${i}`,
        model,
        version,
        stable: null,
        strategy: 'canary',
        config: deploySchema.parse({}),
        state: 'succeeded',
        requestedBy: 'sam',
        runId,
        workflowId: `deploy-${i}`,
      });
    for (let i = 0; i < 101; i++) await register('paged', `run-paged-${i}`);
    // penguins, paged and 99 others: 101 models, and 101 deployments.
    for (let i = 0; i < 99; i++) {
      await register(`other-${i}`, `run-other-${i}`);
      await deploy(i, `other-${i}`, 1, `run-other-${i}`);
    }
    await deploy(99, 'paged', 1, 'run-paged-0');
    await deploy(100, 'paged', 2, 'run-paged-1');
    const token = api.tokens.viewer;
    const pages = async (first: string, list: (body: any) => unknown[]): Promise<number[]> => {
      const sizes: number[] = [];
      let url: string | null = first;
      while (url) {
        const { body }: { body: any } = await call(api, 'GET', url, { token });
        sizes.push(list(body).length);
        url = body.nextCursor ? `${first}&cursor=${body.nextCursor}` : null;
      }
      return sizes;
    };
    expect(await pages('/v1/models?limit=100', (b) => b.items)).toEqual([100, 1]);
    expect(await pages('/v1/models/paged?limit=100', (b) => b.versions)).toEqual([100, 1]);
    expect(await pages('/v1/deployments?limit=100', (b) => b.items)).toEqual([100, 1]);
    expect(await pages('/v1/deployments?limit=50', (b) => b.items)).toEqual([50, 50, 1]);
  });
});

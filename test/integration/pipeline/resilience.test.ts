// Durability: the GPU worker is SIGKILLed mid-training and replaced (training resumes from the
// last checkpoint, not epoch 0), and a registry activity that fails after writing is retried
// without creating a second version.
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { latestCheckpoint } from '../../../lib/store/checkpoints';
import { getRunEvents } from '../../../lib/store/events';
import { getRunMetrics } from '../../../lib/store/metrics';
import { listModelVersions } from '../../../lib/store/models';
import { getRun } from '../../../lib/store/runs';
import { createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker } from '../../../workers/bootstrap';
import { workflowBundle } from '../harness/env';
import type { Child } from '../../../tools/stack/child';
import { spawnTestFleet } from '../harness/env';
import { waitFor } from '../harness/wait';
import { penguinsSpec, pipelineEnv, startPipeline, type PipelineEnv } from './helpers';

describe('pipeline: GPU worker killed mid-training', () => {
  let env: PipelineEnv;
  beforeAll(async () => {
    env = await pipelineEnv({ fleet: false });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('resumes training from the last checkpoint on a replacement worker', async () => {
    const cpu = await spawnTestFleet(env.cfg, { kinds: ['cpu'] });
    let epochsSeen = 0;
    const gpu1 = await spawnTestFleet(env.cfg, {
      kinds: ['gpu'],
      env: { TEST_EPOCH_DELAY_MS: '250' },
      onLine: (line) => {
        if (/EPOCH \d+/.test(line)) epochsSeen++;
      },
    });
    let gpu2: Child | undefined;
    try {
      const spec = penguinsSpec({ approval: { required: false } });
      spec.trainer = { epochs: 30, batchSize: 32, learningRate: 0.02, hidden: [16], patience: 0 };
      const handle = await startPipeline(env, spec, {
        trainHeartbeatTimeout: '3 seconds',
        retryInitialInterval: '200 milliseconds',
      });
      await waitFor(
        'a checkpoint at epoch >= 5',
        async () => ((await latestCheckpoint(env.store, handle.workflowId, 'train'))?.epoch ?? 0) >= 5,
        90_000
      );
      process.kill(-gpu1.proc.pid!, 'SIGKILL');
      await gpu1.exited;
      const killedAt = (await latestCheckpoint(env.store, handle.workflowId, 'train'))!.epoch;
      expect(killedAt).toBeGreaterThanOrEqual(5);
      expect(killedAt).toBeLessThan(30);
      expect(epochsSeen).toBeGreaterThanOrEqual(5);

      gpu2 = await spawnTestFleet(env.cfg, { kinds: ['gpu'] });
      const result = await handle.result();
      expect(result.status).toBe('succeeded');
      expect(result.training).toEqual({ epochsRun: 30, resumedFromEpoch: killedAt });

      const events = (await getRunEvents(env.store, handle.workflowId)).filter((e) => e.step === 'train');
      expect(events.map((e) => [e.attempt, e.status])).toEqual([
        [1, 'started'], // its worker died: the attempt never finished
        [2, 'completed'],
      ]);
      expect(events[1].details).toMatchObject({ resumedFromEpoch: killedAt, epochsRun: 30 });
      expect((await getRun(env.store, handle.workflowId))?.training).toMatchObject({ resumedFromEpoch: killedAt });
      // Every epoch has exactly one metric point; the resumed attempt wrote only epochs after the checkpoint.
      const metrics = await getRunMetrics(env.store, handle.workflowId, 'train');
      expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(metrics.filter((m) => m.attempt === 2).map((m) => m.step)[0]).toBe(killedAt + 1);
    } finally {
      await Promise.all([cpu.stop(5_000), gpu1.stop(1_000), gpu2?.stop(5_000)]);
    }
  });
});

describe('pipeline: registry activity retried', () => {
  let env: PipelineEnv;
  beforeAll(async () => {
    env = await pipelineEnv({ control: false });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('does not create a second version when registration fails after writing and is retried', async () => {
    const failedAttempts: number[] = [];
    const activities = createActivities({
      cfg: env.cfg,
      store: env.store,
      hooks: {
        afterRegister(attempt) {
          if (attempt === 1) {
            failedAttempts.push(attempt);
            throw new Error('simulated crash after the version was written');
          }
        },
      },
    });
    const connection = await createWorkerConnection(env.cfg);
    const control: Worker = await createFleetWorker({
      kind: 'control',
      cfg: env.cfg,
      connection,
      activities: activities.control,
      workflowBundle: workflowBundle(),
    });
    try {
      await control.runUntil(async () => {
        const spec = penguinsSpec({ approval: { required: false } });
        const handle = await startPipeline(env, spec);
        const result = await handle.result();
        expect(result.status).toBe('succeeded');
        expect(result.version).toBe(1);
        expect(failedAttempts).toEqual([1]);
        const versions = await listModelVersions(env.store, spec.model as string);
        expect(versions.map((v) => [v.version, v.runId])).toEqual([[1, handle.workflowId]]);
        const register = (await getRunEvents(env.store, handle.workflowId)).filter((e) => e.step === 'register');
        expect(register.map((e) => [e.attempt, e.status])).toEqual([
          [1, 'failed'],
          [2, 'completed'],
        ]);
        expect(register[0].error).toMatchObject({
          message: 'simulated crash after the version was written',
          retryable: true,
        });
        expect(register[1].details).toMatchObject({ version: 1, created: false });
      });
    } finally {
      await connection.close();
    }
  });
});

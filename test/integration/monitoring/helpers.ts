// Shared setup of the monitoring tests: a penguins model registered and promoted with the
// reference profile the pipeline's features and evaluate steps write, the real inference server
// sketching (and logging) every request, in-process control and CPU workers whose activities set gauges on a
// registry of their own, and helpers to send traffic drawn from the data or shifted.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { predictOnnx, type Frame } from '../../../lib/ml';
import { mulberry32 } from '../../../lib/workflow-safe/rng';
import { predictionProfile, profileFrame } from '../../../lib/monitoring/profile';
import { parseWindowState } from '../../../lib/monitoring/window-state';
import { driftSketches, HOUR_MS } from '../../../lib/store/drift-sketches';
import { saveReferenceProfile } from '../../../lib/store/monitoring';
import { modelPolicySchema, type ModelPolicyInput } from '../../../lib/spec/policy';
import { putModelPolicy } from '../../../lib/store/policies';
import { createClient, createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker } from '../../../workers/bootstrap';
import { penguinsFeatures } from '../../unit/ml/data';
import { workflowBundle } from '../harness/env';
import {
  infer,
  penguinsRequest,
  penguinsSplit,
  registerPenguins,
  servingEnv,
  type ServingEnv,
} from '../serving/helpers';

export interface MonitoringEnv extends ServingEnv {
  client: Client;
  registry: Registry;
  data: ReturnType<typeof penguinsSplit>;
  /** A new promoted penguins model with its reference profile; returns its name. */
  model(): Promise<string>;
  policy(model: string, policy: ModelPolicyInput): Promise<void>;
}

export async function monitoringEnv(): Promise<MonitoringEnv> {
  const data = penguinsSplit();
  const env = await servingEnv({ serverEnv: () => ({ MLOPS_PREDICTION_LOG_SAMPLE: '1' }) });
  const registry = new Registry();
  const client = await createClient(env.cfg);
  const connection = await createWorkerConnection(env.cfg);
  const activities = createActivities({ cfg: env.cfg, store: env.store, registry });
  const workers: Worker[] = await Promise.all(
    (['control', 'cpu'] as const).map((kind) =>
      createFleetWorker({
        kind,
        cfg: env.cfg,
        connection,
        activities: activities[kind],
        workflowBundle: workflowBundle(),
      })
    )
  );
  const running = workers.map((w) => w.run());
  return {
    ...env,
    client,
    registry,
    data,
    async model() {
      const name = `pen-${randomUUID().slice(0, 6)}`;
      const { version, onnx } = await registerPenguins(env.store, name, data);
      await saveReferenceProfile(env.store, version.runId, {
        rows: data.train.length,
        features: profileFrame(data.train, penguinsFeatures),
      });
      await saveReferenceProfile(env.store, version.runId, {
        prediction: predictionProfile(await predictOnnx(onnx, data.test)),
        predictionRows: data.test.length,
      });
      return name;
    },
    async policy(model, policy) {
      await putModelPolicy(env.store, model, modelPolicySchema.parse(policy), 'test');
    },
    async close() {
      workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
      await Promise.all(running);
      await connection.close();
      await client.connection.close();
      await env.close();
    },
  };
}

/** `rows` rows drawn with replacement from `frame` (seeded), shifted when `shift` is set. */
export function sample(frame: Frame, rows: number, seed: number, shift = false): Frame {
  const rand = mulberry32(seed);
  const picks = Array.from({ length: rows }, () => Math.floor(rand() * frame.length));
  const columns: Frame['columns'] = {};
  for (const [name, col] of Object.entries(frame.columns)) {
    if (col instanceof Float64Array) {
      // Shifted: every measurement 20% larger (bigger birds), past much of the training range.
      columns[name] = Float64Array.from(picks, (i) => (shift ? col[i] * 1.2 : col[i]));
    } else {
      columns[name] = picks.map((i) => (shift && name === 'island' ? 'Biscoe' : col[i]));
    }
  }
  return { length: rows, columns };
}

/**
 * Sends a frame through the inference server in requests of `batch` rows; returns their request
 * ids. With `idColumn`, each row also carries its id `r<row>` in that input.
 */
export async function send(
  env: MonitoringEnv,
  model: string,
  frame: Frame,
  batch = 10,
  idColumn?: string
): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < frame.length; from += batch) {
    const to = Math.min(from + batch, frame.length);
    const id = `req-${randomUUID()}`;
    const res = await infer(env.server.url, model, env.tokens.predictor, {
      id,
      ...penguinsRequest(frame, from, to, idColumn),
    });
    if (res.status !== 200) throw new Error(`inference answered ${res.status}: ${JSON.stringify(res.body)}`);
    ids.push(id);
  }
  return ids;
}

/** Requests of the model in the inference servers' drift sketches (what a window merges): their hour roll-ups. */
export async function sketchedRequests(env: Pick<MonitoringEnv, 'store'>, model: string): Promise<number> {
  const docs = await driftSketches(env.store.db).find({ model }).toArray();
  return docs
    .filter((d) => d.to.getTime() - d.from.getTime() === HOUR_MS) // each request is in one bucket and its hour
    .flatMap((d) => Object.values(d.servers))
    .reduce((n, state) => n + parseWindowState(state).requests, 0);
}

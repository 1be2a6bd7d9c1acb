// GPU queue: the activities of data-parallel training (workflows/distributed-training.ts).
// Data, shards, shard updates and global states are content-addressed artifacts; only references
// travel through Temporal. Decoded plans and shards are cached per process, so a worker reads its
// shard once, not every round. Shard activities heartbeat per chunk of batches; a shard whose
// worker dies times out on its heartbeat and is retried on another worker.
import { Context } from '@temporalio/activity';
import { decodeFrame } from '../lib/ml/dataset';
import { decodeCheckpoint } from '../lib/ml/checkpoint';
import { MEDIA, putArtifact, readArtifact, type ArtifactRef } from '../lib/store/artifacts';
import { saveCheckpoint } from '../lib/store/checkpoints';
import { recordMetric } from '../lib/store/metrics';
import {
  averageRound,
  decodeRows,
  decodeUpdate,
  encodeRows,
  encodeUpdate,
  finalizeModel,
  prepareDataParallel,
  trainShard,
  type DpPlan,
  type Encoded,
  type RoundSummary,
} from '../lib/trainers/data-parallel';
import { storeTrainedModel, trainSpecFor } from './train';
import { cancellationSignal, classify, currentAttempt, heartbeat, tracked, type ActivityDeps } from './common';
import type { TrainInput, TrainResult } from './types';

export interface DpPrepareInput extends TrainInput {
  workers: number;
}
export interface DpPrepared {
  plan: ArtifactRef;
  shards: ArtifactRef[];
  val: ArtifactRef | null;
  /** Round 0 global state. */
  global: ArtifactRef;
  shardRows: number[];
}
export interface DpShardInput {
  runId: string;
  plan: ArtifactRef;
  shard: ArtifactRef;
  index: number;
  global: ArtifactRef;
  round: number;
}
export interface DpShardResult {
  update: ArtifactRef;
  samples: number;
  loss: number;
  seconds: number;
  worker: string;
  attempt: number;
}
export interface DpAverageInput {
  runId: string;
  plan: ArtifactRef;
  val: ArtifactRef | null;
  global: ArtifactRef;
  round: number;
  updates: ArtifactRef[];
  /** Wall time the round's shards took (workflow clock), for samples/s. */
  roundMs: number;
  workers: string[];
}
export interface DpAverageResult extends RoundSummary {
  global: ArtifactRef;
}
export interface DpFinalizeInput extends TrainInput {
  plan: ArtifactRef;
  global: ArtifactRef;
}

/** Small per-process cache of decoded artifacts, keyed by sha256. */
class Cache<T> {
  private map = new Map<string, Promise<T>>();
  constructor(private readonly max: number) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key);
      this.map.set(key, p);
      return p;
    }
    p = load();
    p.catch(() => this.map.delete(key));
    this.remember(key, p);
    return p;
  }
  /** Keeps a value this process already holds, so the next get of its key skips the store. */
  put(key: string, value: T): void {
    this.map.delete(key);
    this.remember(key, Promise.resolve(value));
  }
  private remember(key: string, p: Promise<T>): void {
    this.map.set(key, p);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

function identity(): string {
  try {
    const info = Context.current().info;
    return `${info.taskQueue}/${process.pid}`;
  } catch {
    return `local/${process.pid}`;
  }
}

export function createDistributedActivities(deps: ActivityDeps) {
  const hooks = deps.hooks ?? {};
  const plans = new Cache<DpPlan>(8);
  const rows = new Cache<Encoded>(16);
  // States this process wrote or read recently (global states, shard updates): a shard that runs on
  // the worker which averaged the last round, or an average on a worker that ran a shard, skips a
  // store read. Content-addressed, so a cached entry can never be stale.
  const bytes = new Cache<Uint8Array>(8);
  const read = (ref: ArtifactRef) => bytes.get(ref.sha256, () => readArtifact(deps.store, ref));
  const write = async (data: Uint8Array, media: string, runId: string, kind: string) => {
    const ref = await putArtifact(deps.store, data, media, label(runId, kind));
    bytes.put(ref.sha256, data);
    return ref;
  };
  const plan = (ref: ArtifactRef) =>
    plans.get(ref.sha256, async () => JSON.parse((await readArtifact(deps.store, ref)).toString('utf8')) as DpPlan);
  const encoded = (ref: ArtifactRef) =>
    rows.get(ref.sha256, async () => decodeRows(await readArtifact(deps.store, ref)));
  const label = (runId: string, kind: string) => ({ kind, runId });

  return {
    async dpPrepare(input: DpPrepareInput): Promise<DpPrepared> {
      return tracked(
        deps,
        input.runId,
        'train:prepare',
        async () => {
          const frame = decodeFrame(await readArtifact(deps.store, input.train));
          const spec = trainSpecFor(input, deps.cfg.MLOPS_TRAIN_MEMORY_MB);
          const p = prepareDataParallel(frame, spec, input.workers);
          const put = (bytes: Uint8Array, media: string, kind: string) =>
            putArtifact(deps.store, bytes, media, label(input.runId, kind));
          const planRef = await put(Buffer.from(JSON.stringify(p.plan)), MEDIA.json, 'dp-plan');
          const shards: ArtifactRef[] = [];
          for (const s of p.shards) {
            const ref = await put(encodeRows(s), 'application/x-mlops-rows', 'dp-shard');
            rows.put(ref.sha256, s); // this worker may run a shard next
            shards.push(ref);
          }
          const val = p.val ? await put(encodeRows(p.val), 'application/x-mlops-rows', 'dp-val') : null;
          if (val && p.val) rows.put(val.sha256, p.val);
          plans.put(planRef.sha256, p.plan);
          const global = await write(p.global, MEDIA.checkpoint, input.runId, 'checkpoint');
          return { plan: planRef, shards, val, global, shardRows: p.plan.shardRows };
        },
        (r) => ({ workers: r.shards.length, shardRows: r.shardRows })
      );
    },

    async dpTrainShard(input: DpShardInput): Promise<DpShardResult> {
      const started = Date.now();
      heartbeat({ round: input.round, shard: input.index });
      // Liveness while the store is slow (chunks heartbeat with progress on top of this).
      const timer = setInterval(() => heartbeat({ round: input.round, shard: input.index }), 1_000);
      try {
        await hooks.beforeShard?.(input.round, input.index);
        const [p, shard, globalBytes] = await Promise.all([plan(input.plan), encoded(input.shard), read(input.global)]);
        let chunks = 0;
        const update = await trainShard(p, shard, decodeCheckpoint(globalBytes), input.index, input.round, {
          signal: cancellationSignal(),
          onChunk: async () => {
            heartbeat({ round: input.round, shard: input.index, chunks: ++chunks });
          },
        });
        const ref = await write(encodeUpdate(update), 'application/x-mlops-shard-update', input.runId, 'dp-update');
        return {
          update: ref,
          samples: update.samples,
          loss: update.lossSum / update.samples,
          seconds: (Date.now() - started) / 1000,
          worker: identity(),
          attempt: currentAttempt(),
        };
      } catch (err) {
        throw classify(err);
      } finally {
        clearInterval(timer);
      }
    },

    async dpAverage(input: DpAverageInput): Promise<DpAverageResult> {
      heartbeat({ round: input.round });
      const timer = setInterval(() => heartbeat({ round: input.round }), 1_000);
      try {
        const [p, previous, val, ...updates] = await Promise.all([
          plan(input.plan),
          read(input.global).then(decodeCheckpoint),
          input.val ? encoded(input.val) : Promise.resolve(null),
          ...input.updates.map((u) => read(u).then(decodeUpdate)),
        ]);
        const { global, summary } = averageRound(p, previous, updates, val, input.round, input.roundMs / 1000);
        const ref = await write(global, MEDIA.checkpoint, input.runId, 'checkpoint');
        await saveCheckpoint(deps.store, {
          runId: input.runId,
          step: 'train:distributed',
          epoch: input.round,
          ref,
          attempt: currentAttempt(),
        });
        await recordMetric(deps.store, {
          runId: input.runId,
          series: 'train',
          step: input.round,
          attempt: currentAttempt(),
          values: {
            trainLoss: summary.trainLoss,
            valLoss: summary.valLoss,
            valMetric: summary.valMetric,
            samplesPerSec: summary.samples / Math.max(input.roundMs / 1000, 1e-9),
            workers: input.updates.length,
            distinctWorkers: new Set(input.workers).size,
            roundSeconds: input.roundMs / 1000,
          },
        });
        return { ...summary, global: ref };
      } catch (err) {
        throw classify(err);
      } finally {
        clearInterval(timer);
      }
    },

    async dpFinalize(input: DpFinalizeInput): Promise<TrainResult> {
      return tracked(
        deps,
        input.runId,
        'train:finalize',
        async () => {
          const p = await plan(input.plan);
          const global = decodeCheckpoint(await readArtifact(deps.store, input.global));
          const model = finalizeModel(p, global);
          return storeTrainedModel(deps, input, model, currentAttempt(), `builtin-data-parallel:${p.workers}`);
        },
        (r) => ({ epochsRun: r.epochsRun, bestEpoch: r.bestEpoch, parameters: r.parameterCount })
      );
    },
  };
}

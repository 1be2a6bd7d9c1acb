// Data-parallel scaling on the embedded stack: the distributedTraining workflow with K = 1 and K = 2
// GPU-queue workers (two real worker processes, workers/gpu.ts, CPU path; the control fleet in this
// process) on the same synthetic data and spec, at equal accuracy. Reports
//   - throughput: training samples / wall time of the rounds (from the workflow history), and the
//     K=2 / K=1 ratio;
//   - accuracy: the final validation accuracy of both;
//   - per-round orchestration overhead: round wall time (first shard scheduled -> averaging
//     completed) minus the time inside activities on the critical path (slowest shard + averaging),
//     also for a tiny model where compute is ~0.
//
//   npx tsx bench/fleets/scaling.ts [--rows 120000] [--features 32] [--epochs 6] [--hidden 256,256]
//
// Prints one JSON document (also written to bench/results/fleets-scaling.json), then a table.
// Not a test: nothing asserts on wall time.
import { createWriteStream, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config';
import { encodeFrame } from '../../lib/ml/dataset';
import { parseRunSpec } from '../../lib/spec';
import { MEDIA, putArtifact } from '../../lib/store/artifacts';
import { Child, repoScript } from '../../tools/stack/child';
import { ms, startBenchStack, startControlFleet } from '../stack';
import { gaussianClusters } from './synthetic';
import type { DistributedTrainingInput, DistributedTrainingResult } from '../../workflows/distributed-training';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ROOT = path.resolve(__dirname, '../..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

interface RoundTiming {
  round: number;
  wallMs: number;
  slowestShardMs: number;
  averageMs: number;
  overheadMs: number;
}

/** Rounds from the history: dpTrainShard x K then dpAverage; overhead = wall - critical-path activity time. */
function rounds(events: HistoryEvent[]): RoundTiming[] {
  const type = new Map<string, string>();
  const scheduledAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const out: RoundTiming[] = [];
  let roundStart = NaN;
  let slowest = 0;
  for (const e of events) {
    const t = ms(e.eventTime);
    const id = String(e.eventId);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
      type.set(id, name);
      scheduledAt.set(id, t);
      if (name === 'dpTrainShard' && Number.isNaN(roundStart)) roundStart = t;
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      startedAt.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), t);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const a = e.activityTaskCompletedEventAttributes!;
      const sid = String(a.scheduledEventId);
      const inside = t - (startedAt.get(sid) ?? t);
      const name = type.get(sid);
      if (name === 'dpTrainShard') slowest = Math.max(slowest, inside);
      if (name === 'dpAverage' && !Number.isNaN(roundStart)) {
        const wall = t - roundStart;
        out.push({
          round: out.length + 1,
          wallMs: wall,
          slowestShardMs: slowest,
          averageMs: inside,
          overheadMs: wall - slowest - inside,
        });
        roundStart = NaN;
        slowest = 0;
      }
    }
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

function gpuWorker(cfg: Config, name: string, sink: (l: string) => void): Child {
  return repoScript(name, 'workers/gpu.ts', {
    env: {
      TEMPORAL_ADDRESS: cfg.TEMPORAL_ADDRESS,
      MONGODB_URI: cfg.MONGODB_URI,
      MONGODB_DB: cfg.MONGODB_DB,
      MLOPS_GPU_QUEUE: cfg.queues.gpu,
      MLOPS_DATA_DIR: cfg.dataDir,
      MLOPS_ENCRYPTION_KEYS: cfg.MLOPS_ENCRYPTION_KEYS,
      MLOPS_LOG_LEVEL: 'info',
      MLOPS_WORKER_METRICS_PORT: '0',
    },
    sink,
  });
}

async function main(): Promise<void> {
  const rows = Number(arg('rows', '120000'));
  const features = Number(arg('features', '32'));
  const epochs = Number(arg('epochs', '6'));
  const hidden = arg('hidden', '256,256').split(',').map(Number);
  const stack = await startBenchStack('mlops-bench-fleets');
  const { id, dir } = stack;
  const cfg = stack.config({ MLOPS_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}` });
  const { store, client, close } = await startControlFleet(stack, cfg);
  const workerLog = createWriteStream(path.join(dir, 'workers.log'));
  const sink = (line: string) => workerLog.write(`${line}\n`);
  const fleet = [gpuWorker(cfg, 'gpu-1', sink), gpuWorker(cfg, 'gpu-2', sink)];
  await Promise.all(fleet.map((c) => c.waitForLine(/ready/, 120_000)));
  const frame = gaussianClusters(rows, features, 4, 11, 0.8);
  const train = await putArtifact(store, encodeFrame(frame), MEDIA.frame, { kind: 'bench' });
  const featureSpecs = Array.from({ length: features }, (_, j) => ({ name: `x${j}`, type: 'numeric' as const }));

  const job = async (workers: number, ep: number, hid: number[], tag: string) => {
    const runId = `bench-${id}-${tag}`;
    const spec = parseRunSpec({
      model: 'bench-fleets',
      dataset: { name: 'penguins' },
      target: 'label',
      trainer: {
        workers,
        epochs: ep,
        hidden: hid,
        batchSize: 128,
        learningRate: 0.002,
        patience: 0,
        validationFraction: 0.1,
      },
    });
    const input: DistributedTrainingInput = {
      runId,
      spec,
      task: 'classification',
      features: featureSpecs,
      train,
      datasetSha256: train.sha256,
      queues: { gpu: cfg.queues.gpu },
      options: { historyLimit: 100_000 },
    };
    const handle = await client.workflow.start('distributedTraining', {
      taskQueue: cfg.queues.control,
      workflowId: runId,
      args: [input],
    });
    const result = (await handle.result()) as DistributedTrainingResult;
    const r = rounds((await handle.fetchHistory()).events ?? []);
    const trainRows = Math.round(rows * 0.9);
    const wall = r.reduce((a, x) => a + x.wallMs, 0);
    return {
      workers,
      epochs: ep,
      hidden: hid,
      rounds: r.length,
      valAccuracy: result.final?.valMetric ?? NaN,
      samplesPerSec: (trainRows * r.length) / (wall / 1000),
      roundWallMsMedian: median(r.map((x) => x.wallMs)),
      overheadMsMedian: median(r.map((x) => x.overheadMs)),
      overheadMsMax: Math.max(...r.map((x) => x.overheadMs)),
      averageMsMedian: median(r.map((x) => x.averageMs)),
      perRound: r,
    };
  };

  try {
    await job(2, 1, hidden, 'warmup'); // ORT sessions and caches warm on both workers
    const k1 = await job(1, epochs, hidden, 'k1');
    const k2 = await job(2, epochs, hidden, 'k2');
    const tiny1 = await job(1, 6, [4], 'tiny-k1');
    const tiny2 = await job(2, 6, [4], 'tiny-k2');
    const report = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
      data: { rows, features, classes: 4, trainRows: Math.round(rows * 0.9) },
      scaling: {
        k1: { ...k1, perRound: undefined },
        k2: { ...k2, perRound: undefined },
        ratio: k2.samplesPerSec / k1.samplesPerSec,
        accuracyDelta: k2.valAccuracy - k1.valAccuracy,
      },
      overhead: {
        note: 'per round: wall (first shard scheduled -> averaging completed) minus slowest shard and averaging activity time',
        bigModel: { k1: k1.overheadMsMedian, k2: k2.overheadMsMedian },
        tinyModel: {
          k1: tiny1.overheadMsMedian,
          k2: tiny2.overheadMsMedian,
          k1Max: tiny1.overheadMsMax,
          k2Max: tiny2.overheadMsMax,
          k2RoundWallMs: tiny2.roundWallMsMedian,
        },
      },
      rounds: { k1: k1.perRound, k2: k2.perRound, tinyK2: tiny2.perRound },
    };
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench', 'results', 'fleets-scaling.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report, null, 2));
    const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
    console.log(
      '\n| job | workers | rounds | samples/s | val acc | round wall ms (median) | overhead ms/round (median) |'
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, j] of [
      ['mlp ' + hidden.join('x'), k1],
      ['mlp ' + hidden.join('x'), k2],
      ['tiny [4]', tiny1],
      ['tiny [4]', tiny2],
    ] as const)
      console.log(
        `| ${name} | ${j.workers} | ${j.rounds} | ${f(j.samplesPerSec, 0)} | ${f(j.valAccuracy, 4)} | ${f(j.roundWallMsMedian)} | ${f(j.overheadMsMedian)} |`
      );
    console.log(
      `\nK=2 / K=1 throughput: ${f(report.scaling.ratio, 2)}x; accuracy delta ${f(report.scaling.accuracyDelta, 4)}`
    );
  } finally {
    await Promise.all(fleet.map((c) => c.stop(5_000)));
    await close();
    workerLog.end();
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

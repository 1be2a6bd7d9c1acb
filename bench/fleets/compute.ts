// Compute-only data-parallel scaling on this machine, without Temporal or the artifact store:
// K worker processes each run the shard step of lib/trainers/data-parallel.ts on their shard, with a
// barrier and sample-weighted averaging per round in the parent (files on local disk carry the
// states). Compares K = 1 and K = 2 throughput, and the validation accuracy of both (same data,
// spec, rounds). bench/fleets/scaling.ts measures the same through the whole platform.
//
//   npx tsx bench/fleets/compute.ts [--rows 60000] [--features 16] [--epochs 5] [--hidden 256,256]
//
// Prints one JSON document, then a table. Not a test.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { decodeCheckpoint } from '../../lib/ml/checkpoint';
import { gaussianClusters } from './synthetic';
import type { Frame, TrainSpec } from '../../lib/ml/types';
import {
  averageRound,
  decodeRows,
  decodeUpdate,
  encodeRows,
  encodeUpdate,
  prepareDataParallel,
  trainShard,
  type DpPlan,
} from '../../lib/trainers/data-parallel';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Child: waits for round files, trains its shard, writes its update, until told to stop. */
async function child(dir: string, index: number): Promise<void> {
  const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as DpPlan;
  const shard = decodeRows(readFileSync(path.join(dir, `shard-${index}.bin`)));
  console.log('READY');
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const round = Number(line);
    if (!round) break;
    const global = decodeCheckpoint(readFileSync(path.join(dir, `global-${round - 1}.bin`)));
    const t0 = performance.now();
    const u = await trainShard(plan, shard, global, index, round);
    const ms = performance.now() - t0;
    writeFileSync(path.join(dir, `update-${round}-${index}.bin`), encodeUpdate(u));
    console.log(`DONE ${round} ${ms.toFixed(1)}`);
  }
}

async function run(frame: Frame, spec: TrainSpec, K: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dp-compute-'));
  const p = prepareDataParallel(frame, spec, K);
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(p.plan));
  p.shards.forEach((s, i) => writeFileSync(path.join(dir, `shard-${i}.bin`), encodeRows(s)));
  writeFileSync(path.join(dir, 'global-0.bin'), p.global);
  const kids = Array.from({ length: K }, (_, i) => {
    const c = spawn(process.execPath, ['--import', 'tsx', __filename, '--child', dir, String(i)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: ((l: string) => void)[] = [];
    readline.createInterface({ input: c.stdout! }).on('line', (l) => lines.shift()?.(l));
    const next = () => new Promise<string>((r) => lines.push(r));
    return { c, next };
  });
  await Promise.all(kids.map((k) => k.next()));
  let global = p.global;
  let computeMs = 0;
  let last = { valMetric: NaN, valLoss: NaN };
  const t0 = performance.now();
  for (let round = 1; round <= spec.epochs; round++) {
    const done = kids.map((k) => k.next());
    kids.forEach((k) => k.c.stdin!.write(`${round}\n`));
    const times = (await Promise.all(done)).map((l) => Number(l.split(' ')[2]));
    computeMs += Math.max(...times);
    const updates = kids.map((_, i) => decodeUpdate(readFileSync(path.join(dir, `update-${round}-${i}.bin`))));
    const next = averageRound(p.plan, decodeCheckpoint(global), updates, p.val, round, 1);
    global = next.global;
    writeFileSync(path.join(dir, `global-${round}.bin`), global);
    last = next.summary;
  }
  const wallMs = performance.now() - t0;
  kids.forEach((k) => k.c.stdin!.end('0\n'));
  const trainRows = p.plan.shardRows.reduce((a, b) => a + b, 0);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return {
    workers: K,
    rounds: spec.epochs,
    samplesPerSec: (trainRows * spec.epochs) / (wallMs / 1000),
    computeOnlySamplesPerSec: (trainRows * spec.epochs) / (computeMs / 1000),
    wallMs,
    valAccuracy: last.valMetric,
    valLoss: last.valLoss,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], Number(process.argv[4]));
  const rows = Number(arg('rows', '60000'));
  const features = Number(arg('features', '16'));
  const epochs = Number(arg('epochs', '5'));
  const hidden = arg('hidden', '256,256').split(',').map(Number);
  const frame = gaussianClusters(rows, features, 4, 11, 0.5);
  const spec: TrainSpec = {
    task: 'classification',
    target: 'label',
    features: Array.from({ length: features }, (_, j) => ({ name: `x${j}`, type: 'numeric' as const })),
    model: { kind: 'mlp', hidden },
    epochs,
    batchSize: 128,
    learningRate: 0.002,
    l2: 1e-4,
    patience: 0,
    validationFraction: 0.1,
    seed: 5,
  };
  await run(frame, { ...spec, epochs: 1 }, 2); // warm-up (tsx compile cache, ORT)
  const k1 = await run(frame, spec, 1);
  const k2 = await run(frame, spec, 2);
  const report = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
    data: { rows, features, classes: 4, hidden, epochs, batchSize: 128 },
    k1,
    k2,
    ratio: k2.samplesPerSec / k1.samplesPerSec,
    accuracyDelta: k2.valAccuracy - k1.valAccuracy,
  };
  console.log(JSON.stringify(report, null, 2));
  const f = (x: number, d = 0) => x.toFixed(d);
  console.log('\n| workers | samples/s (rounds incl. averaging) | samples/s (slowest shard only) | val acc |');
  console.log('|---|---|---|---|');
  for (const j of [k1, k2])
    console.log(`| ${j.workers} | ${f(j.samplesPerSec)} | ${f(j.computeOnlySamplesPerSec)} | ${f(j.valAccuracy, 4)} |`);
  console.log(`\nK=2 / K=1: ${f(report.ratio, 2)}x at accuracy delta ${f(report.accuracyDelta, 4)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

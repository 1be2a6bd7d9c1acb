// What encryption costs, measured in one process on the embedded stack (Temporal dev server +
// FerretDB, all three fleets in this process):
//
// 1. Pipeline wall time with the payload codec on and off. Two sets of control/gpu/cpu workers,
//    each on task queues of its own, and a client per set: "encrypted" has the data converter of
//    every process (createDataConverter: the AES-256-GCM EncryptionCodec, failures encoded),
//    "plain" the same converter without the codec. Runs alternate (ABBA: encrypted first on even
//    rounds, plain first on odd ones) after one discarded warm-up run each, so background load
//    hits both alike. Artifacts are encrypted at rest in both variants (the store signs models
//    with the same keyring, so it cannot be turned off for a pipeline); part 3 prices that.
//    The encrypted variant's codec is wrapped in a meter: payloads, bytes and milliseconds spent
//    in encode/decode per run.
// 2. The codec alone: encode + decode of one payload of 1 KiB, 64 KiB and 1 MiB (latency, MB/s).
// 3. Artifacts: putArtifact + readArtifact through FerretDB with and without the store's keyring
//    (envelope encryption), and the envelope crypto alone, for 64 KiB, 1 MiB and 4 MiB.
//
//   npm run bench:encryption -- [--runs 10] [--epochs 40] [--codec-rounds 5] [--artifact-rounds 5]
//
// Prints one JSON document (also written to bench/results/encryption-overhead.json), then a
// table. Not a test: nothing asserts on time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../../lib/config';
import { open, seal } from '../../lib/crypto/aes-gcm';
import { openArtifact, sealArtifact } from '../../lib/crypto/envelope';
import { keyringFor, type Keyring } from '../../lib/crypto/keyring';
import { parseRunSpec } from '../../lib/spec';
import { MEDIA, putArtifact, readArtifact } from '../../lib/store/artifacts';
import { openStore, type Store } from '../../lib/store/db';
import { createClient, createDataConverter, createWorkerConnection } from '../../lib/temporal/connection';
import { EncryptionCodec } from '../../lib/temporal/encryption-codec';
import { createFleetWorker, type FleetKind } from '../../workers/bootstrap';
import type { PipelineInput, PipelineResult } from '../../workflows/pipeline';
import { percentile } from '../api/load';
import { table } from '../ml/common';
import { arg, ms, startBenchStack, type BenchStack } from '../stack';

const ROOT = path.resolve(__dirname, '../..');
const KIB = 1024;
const MIB = 1024 * KIB;
const FLEETS: FleetKind[] = ['control', 'gpu', 'cpu'];

interface Stats {
  n: number;
  mean: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Percentiles by nearest rank (the median of an even count is the lower middle). */
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(s.length, 1);
  return { n: s.length, mean, median: percentile(s, 50), p90: percentile(s, 90), min: s[0], max: s[s.length - 1] };
}

const dataBytes = (payloads: Payload[]) => payloads.reduce((t, p) => t + (p.data?.byteLength ?? 0), 0);

/** Counts what passes through a codec and the time spent in it. */
interface Meter {
  encodeCalls: number;
  decodeCalls: number;
  payloads: number;
  clearBytes: number;
  codecMs: number;
}

class MeteredCodec implements PayloadCodec {
  constructor(
    private readonly inner: PayloadCodec,
    readonly meter: Meter
  ) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return this.measure('encodeCalls', () => this.inner.encode(payloads), payloads);
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return this.measure('decodeCalls', () => this.inner.decode(payloads));
  }

  /** `clear`: the clear payloads when they go in (encode); by default what comes out (decode). */
  private async measure(calls: 'encodeCalls' | 'decodeCalls', run: () => Promise<Payload[]>, clear?: Payload[]) {
    const t = performance.now();
    const out = await run();
    this.meter.codecMs += performance.now() - t;
    this.meter[calls]++;
    this.meter.payloads += out.length;
    this.meter.clearBytes += dataBytes(clear ?? out);
    return out;
  }
}

interface Variant {
  name: 'encrypted' | 'plain';
  cfg: Config;
  client: Client;
  workers: Worker[];
  running: Promise<void>[];
  meter?: Meter;
}

/** The fleet workers of createFleetWorker (queue, identity, concurrency, interceptors) with the given data converter. */
async function startVariant(
  name: Variant['name'],
  cfg: Config,
  store: Store,
  connection: NativeConnection,
  clientConnection: Client['connection'],
  workflowCode: string,
  dataConverter: DataConverter,
  meter?: Meter
): Promise<Variant> {
  const activities = createActivities({ cfg, store });
  const workers = await Promise.all(
    FLEETS.map((kind) =>
      createFleetWorker({
        kind,
        cfg,
        connection,
        activities: activities[kind],
        workflowBundle: { code: workflowCode },
        dataConverter,
      })
    )
  );
  const client = new Client({ connection: clientConnection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter });
  return { name, cfg, client, workers, running: workers.map((w) => w.run()), meter };
}

interface PipelineSample {
  variant: Variant['name'];
  round: number;
  runId: string;
  /** Client side: start request sent -> result decoded. */
  clientWallMs: number;
  /** Server side: first -> last history event. */
  historyWallMs: number;
  historyEvents: number;
  /** The whole history as the server stores it (protobuf bytes): ciphertext is larger. */
  historyBytes: number;
  /** CPU time of this process (client + all workers; the servers are other processes). */
  cpuMs: number;
  codec?: Meter;
}

async function runPipeline(v: Variant, runId: string, round: number, epochs: number) {
  const spec = parseRunSpec({
    model: `enc-bench-${v.name}`,
    dataset: { name: 'penguins' },
    target: 'species',
    trainer: { epochs, batchSize: 32, learningRate: 0.02, hidden: [16], patience: 0 },
    approval: { required: false },
    gates: { maxRegression: null },
  });
  const input: PipelineInput = { runId, spec, queues: v.cfg.queues, createdBy: 'bench' };
  const before = v.meter ? { ...v.meter } : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const handle = await v.client.workflow.start('pipeline', {
    taskQueue: v.cfg.queues.control,
    workflowId: runId,
    args: [input],
  });
  const result = (await handle.result()) as PipelineResult;
  const clientWallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const codec =
    v.meter && before
      ? (Object.fromEntries(
          Object.entries(v.meter).map(([k, x]) => [k, x - before[k as keyof Meter]])
        ) as unknown as Meter)
      : undefined;
  if (result.status !== 'succeeded') throw new Error(`${v.name} run ${runId} ended ${result.status}: ${result.reason}`);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const sample: PipelineSample = {
    variant: v.name,
    round,
    runId,
    clientWallMs,
    historyWallMs: ms(events[events.length - 1]?.eventTime) - ms(events[0]?.eventTime),
    historyEvents: events.length,
    historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
    cpuMs: (cpu.user + cpu.system) / 1000,
    codec,
  };
  return sample;
}

async function pipelineBench(stack: BenchStack, store: Store, runs: number, epochs: number) {
  const cfgFor = (name: Variant['name']) =>
    stack.config({
      MLOPS_CONTROL_QUEUE: `control-${name}-${stack.id}`,
      MLOPS_GPU_QUEUE: `gpu-${name}-${stack.id}`,
      MLOPS_CPU_QUEUE: `cpu-${name}-${stack.id}`,
    });
  const encCfg = cfgFor('encrypted');
  const connection = await createWorkerConnection(encCfg);
  const base = await createClient(encCfg);
  const variants: Variant[] = [];
  const samples: PipelineSample[] = [];
  try {
    // The converter every process uses, and the same without its codec.
    const real = await createDataConverter(encCfg);
    const meter: Meter = { encodeCalls: 0, decodeCalls: 0, payloads: 0, clearBytes: 0, codecMs: 0 };
    const metered = { ...real, payloadCodecs: (real.payloadCodecs ?? []).map((c) => new MeteredCodec(c, meter)) };
    const plain = { ...real, payloadCodecs: [] };
    const start = (name: Variant['name'], dc: DataConverter, m?: Meter) =>
      startVariant(name, cfgFor(name), store, connection, base.connection, stack.workflowCode, dc, m);
    variants.push(await start('encrypted', metered, meter), await start('plain', plain));
    const [enc, clear] = variants;
    for (const v of variants) await runPipeline(v, `warmup-${v.name}-${stack.id}`, -1, epochs);
    for (let round = 0; round < runs; round++) {
      for (const v of round % 2 === 0 ? [enc, clear] : [clear, enc]) {
        const s = await runPipeline(v, `${v.name}-${round}-${stack.id}`, round, epochs);
        samples.push(s);
        console.error(
          `round ${round} ${v.name.padEnd(9)} ${s.clientWallMs.toFixed(0)} ms` +
            (s.codec ? ` (codec ${s.codec.codecMs.toFixed(1)} ms, ${s.codec.payloads} payloads)` : '')
        );
      }
    }
  } finally {
    for (const v of variants) v.workers.forEach((w) => w.shutdown());
    await Promise.all(variants.flatMap((v) => v.running));
    await base.connection.close();
    await connection.close();
  }
  const of = (name: Variant['name']) => samples.filter((s) => s.variant === name);
  const summary = (name: Variant['name']) => {
    const xs = of(name);
    return {
      clientWallMs: stats(xs.map((s) => s.clientWallMs)),
      historyWallMs: stats(xs.map((s) => s.historyWallMs)),
      historyEvents: stats(xs.map((s) => s.historyEvents)).mean,
      historyBytes: stats(xs.map((s) => s.historyBytes)).mean,
      cpuMs: stats(xs.map((s) => s.cpuMs)),
    };
  };
  const encrypted = summary('encrypted');
  const plainSummary = summary('plain');
  const enc = of('encrypted');
  const clear = of('plain');
  const paired = enc.map((s) => s.clientWallMs / clear.find((p) => p.round === s.round)!.clientWallMs);
  const codecPerRun = enc.map((s) => s.codec!);
  return {
    runs,
    epochs,
    dataset: 'penguins',
    encrypted,
    plain: plainSummary,
    /** encrypted / plain, client wall time (start -> result). */
    ratio: {
      mean: encrypted.clientWallMs.mean / plainSummary.clientWallMs.mean,
      median: encrypted.clientWallMs.median / plainSummary.clientWallMs.median,
      /** Per round (each round runs both, back to back): median, mean and its standard error. */
      pairedMedian: stats(paired).median,
      pairedMean: stats(paired).mean,
      pairedStdErr: Math.sqrt(
        paired.reduce((t, r) => t + (r - stats(paired).mean) ** 2, 0) / Math.max(paired.length - 1, 1) / paired.length
      ),
      historyWallMean: encrypted.historyWallMs.mean / plainSummary.historyWallMs.mean,
      /** CPU time of the client and workers (this process). */
      cpuMean: encrypted.cpuMs.mean / plainSummary.cpuMs.mean,
    },
    /** Measured inside the encrypted variant's codec (client + all workers of this process). */
    codecPerRun: {
      ms: stats(codecPerRun.map((c) => c.codecMs)).mean,
      payloads: stats(codecPerRun.map((c) => c.payloads)).mean,
      calls: stats(codecPerRun.map((c) => c.encodeCalls + c.decodeCalls)).mean,
      clearBytes: stats(codecPerRun.map((c) => c.clearBytes)).mean,
      shareOfWall: stats(enc.map((s) => s.codec!.codecMs / s.clientWallMs)).mean,
    },
    samples,
  };
}

/** Mean microseconds per call of `fn`, called for about `sliceMs` (at least 3 times). */
async function perCallUs(sliceMs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < sliceMs || n < 3) {
    await fn();
    n++;
  }
  return ((performance.now() - t0) / n) * 1000;
}

/**
 * Encode + decode of one payload at a time, as activities and workflows do it; and AES-256-GCM
 * seal + open of the same bytes alone (lib/crypto/aes-gcm), to show what the codec adds around it
 * (protobuf framing of the payload, copies). Rounds interleave the sizes; medians of the rounds.
 */
async function codecBench(keyring: Keyring, sizes: number[], rounds: number, sliceMs: number) {
  const codec = new EncryptionCodec(keyring);
  const key = keyring.keys.get(keyring.activeId)!;
  const series = () => ({ encodeUs: [] as number[], decodeUs: [] as number[], aesUs: [] as number[] });
  const acc = new Map(sizes.map((size) => [size, series()]));
  // Round 0 warms up (JIT, OpenSSL contexts) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const size of sizes) {
      const payload: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: randomBytes(size) };
      const sealed = await codec.encode([payload]);
      const opened = await codec.decode(sealed);
      if (opened[0].data?.byteLength !== size) throw new Error('codec round trip changed the payload');
      const a = round > 0 ? acc.get(size)! : series();
      a.encodeUs.push(await perCallUs(sliceMs, () => codec.encode([payload])));
      a.decodeUs.push(await perCallUs(sliceMs, () => codec.decode(sealed)));
      a.aesUs.push(await perCallUs(sliceMs, () => open(key, seal(key, payload.data!))));
    }
  }
  return sizes.map((size) => {
    const a = acc.get(size)!;
    const enc = stats(a.encodeUs).median;
    const dec = stats(a.decodeUs).median;
    const roundTrip = a.encodeUs.map((e, i) => e + a.decodeUs[i]);
    const mbps = (us: number) => size / 1e6 / (us / 1e6);
    return {
      bytes: size,
      encodeUs: enc,
      decodeUs: dec,
      roundTripUs: enc + dec,
      encodeMBps: mbps(enc),
      decodeMBps: mbps(dec),
      /** Payload bytes per second through encode and then decode: median round, best round. */
      roundTripMBps: mbps(enc + dec),
      bestRoundTripMBps: mbps(stats(roundTrip).min),
      /** seal + open alone, no payload framing. */
      aesOnlyUs: stats(a.aesUs).median,
      aesOnlyMBps: mbps(stats(a.aesUs).median),
    };
  });
}

/** putArtifact + readArtifact with the keyring (envelope encryption) and without, interleaved. */
async function artifactBench(store: Store, sizes: number[], rounds: number) {
  const variants = { enc: store, plain: { ...store, keyring: undefined } };
  const times = () => ({ put: [] as number[], read: [] as number[] });
  const acc = new Map(sizes.map((size) => [size, { enc: times(), plain: times(), crypto: [] as number[] }]));
  // Round 0 warms up and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const size of sizes) {
      const a = round > 0 ? acc.get(size)! : { enc: times(), plain: times(), crypto: [] as number[] };
      for (const name of round % 2 === 0 ? (['enc', 'plain'] as const) : (['plain', 'enc'] as const)) {
        const data = randomBytes(size); // fresh bytes: content-addressed writes of known bytes are skipped
        const t0 = performance.now();
        const ref = await putArtifact(variants[name], data, MEDIA.frame, { kind: 'bench' });
        const t1 = performance.now();
        const back = await readArtifact(variants[name], ref);
        const t2 = performance.now();
        if (!back.equals(data)) throw new Error('artifact round trip changed the bytes');
        a[name].put.push(t1 - t0);
        a[name].read.push(t2 - t1);
      }
      // The envelope crypto alone (seal with a fresh data key, open), no database.
      const data = randomBytes(size);
      const sha = createHash('sha256').update(data).digest('hex');
      const t0 = performance.now();
      const sealed = sealArtifact(store.keyring!, sha, data);
      openArtifact(store.keyring!, sha, sealed.envelope, sealed.body);
      a.crypto.push(performance.now() - t0);
    }
  }
  return sizes.map((size) => {
    const a = acc.get(size)!;
    const med = (xs: number[]) => stats(xs).median;
    const enc = med(a.enc.put) + med(a.enc.read);
    const plain = med(a.plain.put) + med(a.plain.read);
    return {
      bytes: size,
      encrypted: { putMs: med(a.enc.put), readMs: med(a.enc.read) },
      plain: { putMs: med(a.plain.put), readMs: med(a.plain.read) },
      /** put + read, medians: encrypted / plain. */
      ratio: enc / plain,
      cryptoOnlyMs: med(a.crypto),
    };
  });
}

async function main(): Promise<void> {
  const runs = arg('runs', 10);
  const epochs = arg('epochs', 40);
  const codecRounds = arg('codec-rounds', 5);
  const artifactRounds = arg('artifact-rounds', 5);
  const loadBefore = os.loadavg();
  const started = performance.now();
  const stack = await startBenchStack('mlops-bench-encryption');
  const cfg = stack.config();
  const store = await openStore(cfg);
  let pipeline: Awaited<ReturnType<typeof pipelineBench>>;
  let codec: Awaited<ReturnType<typeof codecBench>>;
  let artifacts: Awaited<ReturnType<typeof artifactBench>>;
  try {
    pipeline = await pipelineBench(stack, store, runs, epochs);
    codec = await codecBench(await keyringFor(cfg), [KIB, 64 * KIB, MIB], codecRounds, 100);
    artifacts = await artifactBench(store, [64 * KIB, MIB, 4 * MIB], artifactRounds);
  } finally {
    await store.close();
    await stack.close();
  }

  const report = {
    bench: 'encryption-overhead',
    stack: 'embedded: temporal server start-dev (SQLite) + FerretDB (SQLite), fleets in-process',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    date: new Date().toISOString(),
    loadAverage: { before: loadBefore, after: os.loadavg() },
    totalSeconds: (performance.now() - started) / 1000,
    pipeline,
    codec,
    artifacts,
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'encryption-overhead.json'), JSON.stringify(report, null, 2));
  console.log(JSON.stringify({ ...report, pipeline: { ...pipeline, samples: undefined } }, null, 2));

  const p = pipeline;
  console.log(`\npipeline (penguins, ${p.epochs} epochs, ${p.runs} interleaved runs each), wall ms start -> result:`);
  console.log(
    table(
      (['encrypted', 'plain'] as const).map((name) => ({
        variant: name,
        mean: p[name].clientWallMs.mean,
        median: p[name].clientWallMs.median,
        p90: p[name].clientWallMs.p90,
        'cpu ms': p[name].cpuMs.mean,
        'history KiB': p[name].historyBytes / KIB,
      }))
    )
  );
  console.log(
    `ratio encrypted/plain: mean ${p.ratio.mean.toFixed(3)}, median ${p.ratio.median.toFixed(3)}, ` +
      `paired median ${p.ratio.pairedMedian.toFixed(3)}, paired mean ${p.ratio.pairedMean.toFixed(3)} ` +
      `± ${p.ratio.pairedStdErr.toFixed(3)} (s.e.); CPU time ${p.ratio.cpuMean.toFixed(3)}; in the codec ${p.codecPerRun.ms.toFixed(1)} ms per run ` +
      `(${p.codecPerRun.payloads.toFixed(0)} payloads, ${(p.codecPerRun.clearBytes / KIB).toFixed(0)} KiB, ` +
      `${(p.codecPerRun.shareOfWall * 100).toFixed(2)}% of wall)`
  );
  console.log('\npayload codec (AES-256-GCM, one payload per call, medians):');
  console.log(
    table(
      codec.map((c) => ({
        size: `${c.bytes / KIB} KiB`,
        'encode us': c.encodeUs,
        'decode us': c.decodeUs,
        'enc+dec MB/s': c.roundTripMBps,
        'encode MB/s': c.encodeMBps,
        'decode MB/s': c.decodeMBps,
        'best enc+dec MB/s': c.bestRoundTripMBps,
        'AES only MB/s': c.aesOnlyMBps,
      }))
    )
  );
  console.log('\nartifacts through FerretDB, put + read (medians, ms):');
  console.log(
    table(
      artifacts.map((a) => ({
        size: `${a.bytes / KIB} KiB`,
        'put enc': a.encrypted.putMs,
        'read enc': a.encrypted.readMs,
        'put plain': a.plain.putMs,
        'read plain': a.plain.readMs,
        ratio: a.ratio,
        'crypto only': a.cryptoOnlyMs,
      }))
    )
  );
  console.log(
    `\nload average ${report.loadAverage.before.map((x) => x.toFixed(1)).join(' ')} -> ` +
      `${report.loadAverage.after.map((x) => x.toFixed(1)).join(' ')} on ${report.machine.cpus} cores; ` +
      `${report.totalSeconds.toFixed(0)} s in all`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

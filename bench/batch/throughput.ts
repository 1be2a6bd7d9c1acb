// Batch inference throughput and memory on the embedded stack, side by side in one run:
//   - workflow: the batchInference workflow (control fleet in this process, ONE CPU worker as a
//     real process, workers/cpu.ts) over a generated penguins-like CSV: wall time from start to
//     result (split, chunks, output manifest), rows/s, and the CPU worker's peak RSS (VmHWM);
//   - loop: the same file through a single-process onnxruntime-node loop in this process, with the
//     same parser, predict-onnx and output formatting, writing the output to a local file
//     (no Temporal, no store): the floor the workflow is compared against (target >= 0.8x).
// Each input size gets a fresh CPU worker, so its peak RSS belongs to that size alone.
//
//   npx tsx bench/batch/throughput.ts [--rows 100000,1000000] [--parallelism 2]
//
// Prints one JSON document (also written to bench/results/batch-throughput.json), then a table.
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { Config } from '../../lib/config';
import { modelSchema, outputHeader, parseChunk, scoreRows } from '../../lib/batch/score';
import { splitCsvFile } from '../../lib/batch/split';
import { repoScript, type Child } from '../../tools/stack/child';
import type { BatchInferenceInput, BatchResult } from '../../workflows/batch-inference';
import { registerPenguins, writePenguinsCsv } from '../../test/integration/batch/helpers';
import { startBenchStack, startControlFleet } from '../stack';

const ROOT = path.resolve(__dirname, '../..');
const CHUNK = { maxRows: 50_000, maxBytes: 8 * 1024 * 1024 };

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Peak resident set of a live process, in MiB (Linux /proc). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function cpuWorker(cfg: Config, sink: (l: string) => void): Child {
  return repoScript('cpu', 'workers/cpu.ts', {
    env: {
      TEMPORAL_ADDRESS: cfg.TEMPORAL_ADDRESS,
      MONGODB_URI: cfg.MONGODB_URI,
      MONGODB_DB: cfg.MONGODB_DB,
      MLOPS_CPU_QUEUE: cfg.queues.cpu,
      MLOPS_DATA_DIR: cfg.dataDir,
      MLOPS_DATASETS_DIR: cfg.datasetsDir,
      MLOPS_ENCRYPTION_KEYS: cfg.MLOPS_ENCRYPTION_KEYS,
      MLOPS_LOG_LEVEL: 'info',
      MLOPS_WORKER_METRICS_PORT: '0',
    },
    sink,
  });
}

/** The single-process floor: parse, predict and format every chunk, write one output file. */
async function loop(onnx: Uint8Array, file: string, out: string): Promise<{ rows: number; seconds: number }> {
  const schema = modelSchema(onnx);
  const started = process.hrtime.bigint();
  const sink = createWriteStream(out);
  const write = async (s: string) => {
    if (!sink.write(s)) await once(sink, 'drain');
  };
  await write(outputHeader('csv', schema, 'pid'));
  let header: string[] = [];
  const r = await splitCsvFile(file, CHUNK, {
    onHeader: (h) => void (header = h),
    onChunk: async (c) => {
      const parsed = parseChunk(c.bytes.toString('utf8'), header, schema, c, { idColumn: 'pid' });
      for (let s = 0; s < parsed.frame.length; s += 4096) {
        await write(await scoreRows(onnx, parsed, s, Math.min(s + 4096, parsed.frame.length), 'csv'));
      }
    },
  });
  sink.end();
  await once(sink, 'finish');
  return { rows: r.rows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function main(): Promise<void> {
  const sizes = arg('rows', '100000,1000000').split(',').map(Number);
  const parallelism = Number(arg('parallelism', '2'));
  const stack = await startBenchStack('mlops-bench-batch');
  const datasets = path.join(stack.dir, 'datasets');
  mkdirSync(datasets, { recursive: true });
  const cfg = stack.config({
    MLOPS_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`,
    MLOPS_DATASETS_DIR: datasets,
  });
  const { store, client, close } = await startControlFleet(stack, cfg);
  const workerLog = createWriteStream(path.join(stack.dir, 'workers.log'));
  const onnx = await registerPenguins(store, 'penguins');
  const results = [];
  try {
    for (const rows of sizes) {
      const name = `penguins-${rows}.csv`;
      const file = writePenguinsCsv(datasets, name, Math.ceil(rows / 344));
      const fileMiB = readFileSync(file).length / 2 ** 20;
      const floor = await loop(onnx, file, path.join(stack.dir, `loop-${rows}.csv`));

      const worker = cpuWorker(cfg, (l) => workerLog.write(`${l}\n`));
      await worker.waitForLine(/ready/, 120_000);
      const input: BatchInferenceInput = {
        batchId: `bench-${stack.id}-${rows}`,
        model: 'penguins',
        ref: { alias: 'production' },
        input: { path: name },
        format: 'csv',
        idColumn: 'pid',
        maxErrorRate: 0.01,
        queues: { control: cfg.queues.control, cpu: cfg.queues.cpu },
        limits: { chunkRows: CHUNK.maxRows, chunkBytes: CHUNK.maxBytes, parallelism },
      };
      const started = process.hrtime.bigint();
      const handle = await client.workflow.start('batchInference', {
        taskQueue: cfg.queues.control,
        workflowId: input.batchId,
        args: [input],
      });
      const r = (await handle.result()) as BatchResult;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rssMiB = peakRssMiB(worker.proc.pid!);
      await worker.stop(10_000);
      const history = await handle.fetchHistory();
      results.push({
        rows: r.rows,
        fileMiB: Math.round(fileMiB * 10) / 10,
        chunks: r.chunks,
        windows: r.windows,
        parentHistoryEvents: history.events?.length ?? 0,
        workflow: { seconds, rowsPerSec: Math.round(r.rows / seconds), workerPeakRssMiB: rssMiB },
        loop: { seconds: floor.seconds, rowsPerSec: Math.round(floor.rows / floor.seconds) },
        ratio: Math.round((floor.seconds / seconds) * 1000) / 1000,
      });
    }
  } finally {
    await close();
    workerLog.end();
    await stack.close();
  }
  const report = {
    bench: 'batch-throughput',
    at: new Date().toISOString(),
    host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
    parallelism,
    cpuWorkerConcurrency: cfg.MLOPS_CPU_CONCURRENCY || os.cpus().length,
    results,
  };
  console.log(JSON.stringify(report, null, 2));
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'batch-throughput.json'), JSON.stringify(report, null, 2));
  console.log('\n| rows | file MiB | chunks | workflow rows/s | loop rows/s | workflow / loop | CPU worker peak RSS |');
  console.log('|---|---|---|---|---|---|---|');
  for (const x of results) {
    console.log(
      `| ${x.rows} | ${x.fileMiB} | ${x.chunks} | ${x.workflow.rowsPerSec} | ${x.loop.rowsPerSec} | ${x.ratio} | ${x.workflow.workerPeakRssMiB} MiB |`
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

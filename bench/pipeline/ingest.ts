// Streaming ingest throughput: generates a seeded synthetic CSV of about --mb megabytes, then
// reads it with readDataset (parse + type inference + sha256 in one pass) and reports MB/s,
// rows/s and the peak resident memory next to the file size (the file is never held as one
// string: memory grows with the typed columns, about 12 bytes per cell, not with the text).
//
//   npx tsx bench/pipeline/ingest.ts [--mb 200]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildValidationReport, readDataset, writeSyntheticCsv } from '../../lib/ml/dataset';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const mb = arg('mb', 200);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlops-ingest-'));
  const file = path.join(dir, 'synthetic.csv');
  const o = {
    task: 'classification' as const,
    rows: Math.round((mb * 1e6) / 75),
    numeric: 8,
    categorical: 2,
    classes: 3,
    noise: 0.1,
    missing: 0.01,
    seed: 1,
  };
  try {
    let t = performance.now();
    await writeSyntheticCsv(file, o);
    const genMs = performance.now() - t;
    const bytes = statSync(file).size;
    let peak = process.memoryUsage().rss;
    const before = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    t = performance.now();
    const read = await readDataset(file, { format: 'csv' });
    const readMs = performance.now() - t;
    t = performance.now();
    const report = buildValidationReport(read, { target: 'target' });
    const reportMs = performance.now() - t;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const result = {
      bench: 'pipeline-ingest',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      fileMB: bytes / 1e6,
      rows: read.rows,
      columns: read.columns.length,
      generateMs: genMs,
      readMs,
      reportMs,
      readMBps: bytes / 1e6 / (readMs / 1000),
      rowsPerSec: read.rows / (readMs / 1000),
      rssBeforeMB: before / 1e6,
      rssPeakMB: peak / 1e6,
      reportOk: report.ok,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\nfile ${result.fileMB.toFixed(0)} MB, ${result.rows} rows x ${result.columns} cols | read+infer+sha256 ${(readMs / 1000).toFixed(1)} s ` +
        `= ${result.readMBps.toFixed(1)} MB/s, ${(result.rowsPerSec / 1e3).toFixed(0)}k rows/s | report ${reportMs.toFixed(0)} ms | ` +
        `RSS ${result.rssBeforeMB.toFixed(0)} -> peak ${result.rssPeakMB.toFixed(0)} MB`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

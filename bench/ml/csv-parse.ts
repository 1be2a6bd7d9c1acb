// Our streaming CSV parser (lib/ml/dataset/csv.ts) against csv-parse, the well-kept library it
// was weighed against (issue 12, finding 9): records per second on generated files of about
// 50 MB, read the way readDataset reads (1 MiB stream chunks, UTF-8 decoded), so the file read
// is counted in both. Two files: plain numeric rows (no quotes: our fast path) and rows where
// every record has quoted text with delimiters, escaped quotes and sometimes a newline (the
// state machine). Runs alternate ours / csv-parse so both meet the same load; the median of
// each is reported, with the ratio. test/unit/pipeline/csv-rfc4180.test.ts checks that both
// give the same records.
//
//   npx tsx bench/ml/csv-parse.ts [--mb 50] [--reps 3] [--out bench/results/csv-parse.json]
//
// Prints one JSON document, then a table. Not a test.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { CsvParser, csvField } from '../../lib/ml/dataset/csv';
import { mulberry32 } from '../../lib/workflow-safe/rng';
import { arg } from '../stack';

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'say "hi"', 'x, y', 'Zoë', 'Kraków', 'line\nbreak', ''];

/** One record: 12 numbers (numeric) or 4 numbers and 4 quoted texts (quoted). */
function record(kind: 'numeric' | 'quoted', rand: () => number): string {
  const nums = Array.from({ length: kind === 'numeric' ? 12 : 4 }, () => (rand() * 1000 - 500).toFixed(4));
  if (kind === 'numeric') return nums.join(',');
  const texts = Array.from({ length: 4 }, () => {
    const w = WORDS[Math.floor(rand() * WORDS.length)];
    return `"${w.replace(/"/g, '""')}"`; // always quoted, as many exporters write text
  });
  return [...nums, ...texts].join(',');
}

async function generate(file: string, kind: 'numeric' | 'quoted', bytes: number): Promise<number> {
  const rand = mulberry32(kind === 'numeric' ? 1 : 2);
  const out = createWriteStream(file);
  const header = Array.from({ length: kind === 'numeric' ? 12 : 8 }, (_, i) => csvField(`c${i}`)).join(',');
  out.write(header + '\n');
  let written = header.length + 1;
  let records = 0;
  while (written < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(record(kind, rand));
    const block = lines.join('\n') + '\n';
    written += Buffer.byteLength(block);
    records += lines.length;
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return records + 1;
}

async function ours(file: string): Promise<number> {
  let n = 0;
  const decoder = new StringDecoder('utf8');
  const parser = new CsvParser(() => n++);
  for await (const buf of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    parser.push(decoder.write(buf));
  }
  parser.push(decoder.end());
  parser.end();
  return n;
}

async function library(file: string): Promise<number> {
  let n = 0;
  // The settings the corpus test uses: what our parser does without being told.
  const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] })
  );
  for await (const _record of parser) n++;
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const mb = arg('mb', 50);
  const reps = arg('reps', 3);
  const outIndex = process.argv.indexOf('--out');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csv-bench-'));
  const results = [];
  try {
    for (const kind of ['numeric', 'quoted'] as const) {
      const file = path.join(dir, `${kind}.csv`);
      const records = await generate(file, kind, mb * 1e6);
      const bytes = statSync(file).size;
      const times = { ours: [] as number[], csvParse: [] as number[] };
      for (let r = 0; r <= reps; r++) {
        for (const [name, fn] of [
          ['ours', ours],
          ['csvParse', library],
        ] as const) {
          const t0 = performance.now();
          const n = await fn(file);
          const s = (performance.now() - t0) / 1000;
          if (n !== records) throw new Error(`${name} read ${n} records of ${kind}.csv, expected ${records}`);
          if (r > 0) times[name].push(s); // the first round warms both up (JIT, page cache)
        }
      }
      const rate = (xs: number[]) => records / median(xs);
      results.push({
        file: kind,
        bytes,
        records,
        oursSeconds: times.ours,
        csvParseSeconds: times.csvParse,
        oursRecordsPerSec: rate(times.ours),
        csvParseRecordsPerSec: rate(times.csvParse),
        oursMBps: bytes / 1e6 / median(times.ours),
        csvParseMBps: bytes / 1e6 / median(times.csvParse),
        oursOverCsvParse: median(times.csvParse) / median(times.ours),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = {
    bench: 'csv-parse',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    loadAverage: os.loadavg(),
    reps,
    note: 'medians of interleaved runs after one warm-up round; both read the file in 1 MiB chunks',
    results,
  };
  const json = JSON.stringify(summary, null, 2);
  console.log(json);
  if (outIndex >= 0) writeFileSync(process.argv[outIndex + 1], `${json}\n`);
  console.log(
    '\nfile     MB    records     ours rec/s   csv-parse rec/s   ours MB/s  csv-parse MB/s  ours / csv-parse'
  );
  for (const r of results) {
    console.log(
      `${r.file.padEnd(8)} ${(r.bytes / 1e6).toFixed(0).padStart(3)} ${String(r.records).padStart(10)} ` +
        `${r.oursRecordsPerSec.toFixed(0).padStart(14)} ${r.csvParseRecordsPerSec.toFixed(0).padStart(17)} ` +
        `${r.oursMBps.toFixed(1).padStart(11)} ${r.csvParseMBps.toFixed(1).padStart(15)} ${r.oursOverCsvParse.toFixed(2).padStart(17)}x`
    );
  }
  console.log(
    `load average ${summary.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${summary.machine.cpus} cores`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

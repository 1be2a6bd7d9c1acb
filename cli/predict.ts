// `mlops predict MODEL --rows FILE.jsonl`: JSON objects with column names become Open Inference
// Protocol requests (one [N, 1] tensor per feature column, typed by the model's metadata), sent
// to the inference server in chunks, and the answers are printed as one table. Columns the model
// does not use (the target, ids) are ignored; a column absent from a row is a missing value, as
// an empty cell is in training data.
import { readFileSync } from 'node:fs';
import { UsageError } from './config';
import type { Http } from './http';
import { table } from './format';

export const DEFAULT_INFERENCE_URL = 'http://127.0.0.1:8090';

/** Rows per request; well under the server's MLOPS_INFERENCE_MAX_ROWS default. */
export const PREDICT_CHUNK_ROWS = 1_000;

export interface InputMeta {
  name: string;
  datatype: string;
}

export function readRows(text: string, source: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`${source} line ${i + 1} is not JSON; give one JSON object per line`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError(`${source} line ${i + 1} is not a JSON object with column names`);
    }
    rows.push(value as Record<string, unknown>);
  });
  if (!rows.length) throw new UsageError(`${source} holds no rows`);
  return rows;
}

function cell(v: unknown, input: InputMeta, row: number): number | string | null {
  if (v === undefined || v === null || v === '') return null;
  if (input.datatype === 'BYTES') {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  } else {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (Number.isFinite(n)) return n;
  }
  throw new UsageError(
    `row ${row + 1}, column '${input.name}': ${JSON.stringify(v).slice(0, 40)} is not ${input.datatype === 'BYTES' ? 'a text value' : 'a number'} (use null for missing)`
  );
}

/** A v2 request for rows [from, to). */
export function rowsToRequest(rows: Record<string, unknown>[], inputs: InputMeta[], from = 0, to = rows.length) {
  return {
    inputs: inputs.map((input) => {
      const data: (number | string | null)[] = [];
      for (let i = from; i < to; i++) data.push(cell(rows[i][input.name], input, i));
      return { name: input.name, shape: [to - from, 1], datatype: input.datatype, data };
    }),
  };
}

/** The parts of the inference server's v2 answers this client reads (the Open Inference Protocol). */
interface ModelMetadata {
  inputs: InputMeta[];
  parameters?: { classes?: string[] };
}
interface InferResponse {
  model_version: string;
  outputs: { name: string; data: unknown[] }[];
}

export async function predict(
  http: Http,
  opts: { model: string; version?: string; file: string; readStdin?: () => string }
): Promise<{ json: unknown; human: string }> {
  const text = opts.file === '-' ? (opts.readStdin ?? (() => readFileSync(0, 'utf8')))() : readFile(opts.file);
  const rows = readRows(text, opts.file === '-' ? 'stdin' : opts.file);
  const base = `/v2/models/${encodeURIComponent(opts.model)}${opts.version ? `/versions/${opts.version}` : ''}`;
  const meta = (await http.request<ModelMetadata>('GET', base)).body;
  const inputs: InputMeta[] = meta.inputs;
  const absent = inputs.filter((i) => !rows.some((r) => i.name in r)).map((i) => i.name);
  if (absent.length) {
    throw new UsageError(
      `no row has column(s) ${absent.join(', ')}; model ${opts.model} needs ${inputs.map((i) => i.name).join(', ')}`
    );
  }
  const classes: string[] | undefined = meta.parameters?.classes;
  const out: Record<string, unknown>[] = [];
  const versions = new Set<string>();
  for (let from = 0; from < rows.length; from += PREDICT_CHUNK_ROWS) {
    const to = Math.min(rows.length, from + PREDICT_CHUNK_ROWS);
    const res = (
      await http.request<InferResponse>('POST', `${base}/infer`, { body: rowsToRequest(rows, inputs, from, to) })
    ).body;
    versions.add(res.model_version);
    const byName = Object.fromEntries(res.outputs.map((o) => [o.name, o.data]));
    for (let i = 0; i < to - from; i++) {
      const row: Record<string, unknown> = { row: from + i + 1, version: res.model_version };
      if (byName.label) row.label = byName.label[i];
      if (byName.value) row.value = byName.value[i];
      if (byName.probabilities && classes) {
        classes.forEach(
          (c, k) => (row[`p(${c})`] = (byName.probabilities[i * classes.length + k] as number).toFixed(3))
        );
      }
      out.push(row);
    }
  }
  const columns = Object.keys(out[0]).filter((c) => c !== 'version' || versions.size > 1);
  const header = `model ${opts.model} v${[...versions].join(', v')}: ${rows.length} row${rows.length === 1 ? '' : 's'}`;
  return {
    json: { model: opts.model, versions: [...versions], predictions: out },
    human: `${header}\n${table(out, columns)}`,
  };
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
}

// Scores one chunk of a batch input: its CSV records become a Frame of the model's features
// (cells read with the training reader's rules: the same missing spellings, the same number
// grammar, so the graph imputes exactly as it did in evaluation), rows that cannot be read go to
// the errors with their line and reason, and the rest are predicted by predict-onnx. Output rows
// carry their 1-based input row number, so the ordered output plus the errors name every input
// row exactly once.
import { CsvParseError, CsvParser, csvField } from '../ml/dataset/csv';
import { cellNumber, isMissingCell } from '../ml/dataset/columns';
import { predictOnnx, readOnnxMetadata } from '../ml/predict-onnx';
import { META } from '../ml/export';
import type { FeatureSpec, Frame } from '../ml/types';
import { BatchInputError } from './errors';

export const OUTPUT_FORMATS = ['csv', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ModelSchema {
  features: FeatureSpec[];
  /** Class names of a classifier (absent for regression). */
  classes?: string[];
}

export function modelSchema(onnx: Uint8Array): ModelSchema {
  const meta = readOnnxMetadata(onnx);
  if (!meta[META.features]) throw new BatchInputError('the model has no feature schema; it was not exported by mlops');
  return {
    features: JSON.parse(meta[META.features]) as FeatureSpec[],
    classes: meta[META.classes] ? (JSON.parse(meta[META.classes]) as string[]) : undefined,
  };
}

/** Throws naming the first column the model (or the id column) needs that the header lacks. */
export function checkColumns(header: string[], schema: ModelSchema, idColumn: string | undefined, model: string): void {
  const have = new Set(header);
  const shown = header.slice(0, 30).join(', ') + (header.length > 30 ? ', ...' : '');
  for (const f of schema.features) {
    if (!have.has(f.name)) {
      throw new BatchInputError(
        `the input has no column '${f.name}', which ${model} needs (${f.type}); its columns are: ${shown}`
      );
    }
  }
  if (idColumn !== undefined && !have.has(idColumn)) {
    throw new BatchInputError(`the id column '${idColumn}' is not in the input; its columns are: ${shown}`);
  }
}

/** Numbers as written to the output: 7 significant digits (float32 precision). */
export function outputNumber(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : '';
}

/** The output's first line (CSV only; JSONL has none). */
export function outputHeader(format: OutputFormat, schema: ModelSchema, idColumn?: string): string {
  if (format === 'jsonl') return '';
  const cols = ['row', ...(idColumn !== undefined ? [idColumn] : []), 'prediction'];
  for (const c of schema.classes ?? []) cols.push(`p_${c}`);
  return cols.map(csvField).join(',') + '\n';
}

export interface BadRow {
  row: number;
  line: number;
  reason: string;
}

export function errorLine(e: BadRow): string {
  return JSON.stringify(e) + '\n';
}

/** The chunk's readable rows as a Frame, with their row numbers and ids; the rest as BadRows. */
export interface ParsedChunk {
  frame: Frame;
  rowNumbers: Int32Array;
  ids: string[] | null;
  bad: BadRow[];
  /** Records in the chunk (read or bad), past `skip`. */
  records: number;
}

export interface ChunkPosition {
  firstRow: number;
  firstLine: number;
}

/** Parses the chunk's records from record `skip` on (a resumed attempt skips what it already wrote). */
export function parseChunk(
  text: string,
  header: string[],
  schema: ModelSchema,
  at: ChunkPosition,
  opts: { idColumn?: string; skip?: number } = {}
): ParsedChunk {
  const skip = opts.skip ?? 0;
  const idx = schema.features.map((f) => header.indexOf(f.name));
  const idIdx = opts.idColumn !== undefined ? header.indexOf(opts.idColumn) : -1;
  const numeric: number[][] = schema.features.map(() => []);
  const cats: (string | null)[][] = schema.features.map(() => []);
  const rowNumbers: number[] = [];
  const ids: string[] = [];
  const bad: BadRow[] = [];
  const values: (number | string | null)[] = new Array(schema.features.length);
  let k = 0;
  const parser = new CsvParser((fields, relLine) => {
    const row = at.firstRow + k++;
    if (k <= skip) return;
    const line = at.firstLine + relLine - 1;
    if (fields.length !== header.length) {
      bad.push({ row, line, reason: `the row has ${fields.length} fields but the header has ${header.length}` });
      return;
    }
    for (let j = 0; j < idx.length; j++) {
      const f = schema.features[j];
      const text = fields[idx[j]].trim();
      if (isMissingCell(text)) values[j] = f.type === 'numeric' ? NaN : null;
      else if (f.type === 'categorical') values[j] = text;
      else {
        const v = cellNumber(text);
        if (Number.isNaN(v)) {
          bad.push({ row, line, reason: `column '${f.name}' is '${text.slice(0, 40)}', which is not a number` });
          return;
        }
        values[j] = v;
      }
    }
    for (let j = 0; j < idx.length; j++) {
      if (schema.features[j].type === 'numeric') numeric[j].push(values[j] as number);
      else cats[j].push(values[j] as string | null);
    }
    rowNumbers.push(row);
    if (idIdx >= 0) ids.push(fields[idIdx]);
  });
  try {
    parser.push(text);
    parser.end();
  } catch (err) {
    // Broken quoting leaves no record boundary to resume at: the job stops, naming the file's line.
    if (!(err instanceof CsvParseError)) throw err;
    throw new BatchInputError(err.message.replace(/^line \d+/, `line ${at.firstLine + err.line - 1}`));
  }
  const frame: Frame = { length: rowNumbers.length, columns: {} };
  schema.features.forEach((f, j) => {
    frame.columns[f.name] = f.type === 'numeric' ? Float64Array.from(numeric[j]) : cats[j];
  });
  return { frame, rowNumbers: Int32Array.from(rowNumbers), ids: idIdx >= 0 ? ids : null, bad, records: k - skip };
}

/** Rows [start, end) of a frame (views, no copies of numeric columns). */
function sliceFrame(frame: Frame, start: number, end: number): Frame {
  const columns: Frame['columns'] = {};
  for (const [name, col] of Object.entries(frame.columns)) {
    columns[name] = col instanceof Float64Array ? col.subarray(start, end) : col.slice(start, end);
  }
  return { length: end - start, columns };
}

/** Predicts rows [start, end) of a parsed chunk and formats them as output lines. */
export async function scoreRows(
  onnx: Uint8Array,
  parsed: ParsedChunk,
  start: number,
  end: number,
  format: OutputFormat
): Promise<string> {
  if (end <= start) return '';
  const p = await predictOnnx(onnx, sliceFrame(parsed.frame, start, end));
  const out: string[] = [];
  const k = p.classes?.length ?? 0;
  for (let i = 0; i < end - start; i++) {
    const row = parsed.rowNumbers[start + i];
    const id = parsed.ids?.[start + i];
    const prediction = p.values ? outputNumber(p.values[i]) : p.labels![i];
    const probs = p.probabilities ? Array.from({ length: k }, (_, c) => outputNumber(p.probabilities![i * k + c])) : [];
    if (format === 'csv') {
      const cells = [
        String(row),
        ...(id !== undefined ? [csvField(id)] : []),
        p.values ? prediction : csvField(prediction),
        ...probs,
      ];
      out.push(cells.join(','));
    } else {
      const obj: Record<string, unknown> = { row };
      if (id !== undefined) obj.id = id;
      obj.prediction = p.values ? Number(prediction) : prediction;
      if (p.probabilities) obj.probabilities = Object.fromEntries(p.classes!.map((c, j) => [c, Number(probs[j])]));
      out.push(JSON.stringify(obj));
    }
  }
  return out.join('\n') + '\n';
}

// Reads a CSV or JSONL file as a stream into a Frame, in one pass that also fingerprints the
// bytes (sha256) and infers each column's type (with user overrides). Structural problems
// (ragged rows, bad JSON lines) and cells that do not fit their column are collected with their
// line numbers for the validation report instead of stopping at the first one.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { ColumnType, Frame } from '../types';
import { ColumnBuilder, type ColumnSummary } from './columns';
import { CsvParseError, CsvParser } from './csv';
import { markErrorClass } from '../../workflow-safe/typed-error';

export type DatasetFormat = 'csv' | 'jsonl';

export interface DatasetIssue {
  severity: 'error' | 'warning';
  code: string;
  column?: string;
  line?: number;
  message: string;
}

export interface ReadOptions {
  format: DatasetFormat;
  /** Column type overrides (features.types of the run spec). */
  types?: Record<string, ColumnType>;
  /** Columns not to load at all. */
  drop?: string[];
  /** Called about every 8 MiB with the bytes read so far (heartbeat hook). */
  onProgress?(bytesRead: number): void;
  signal?: AbortSignal;
}

export interface ReadResult {
  frame: Frame;
  columns: ColumnSummary[];
  /** Structural problems found while reading (ragged rows, bad JSON). */
  issues: DatasetIssue[];
  sha256: string;
  bytes: number;
  /** Rows read (rows with structural errors are skipped and not counted). */
  rows: number;
  format: DatasetFormat;
}

/** Stop reading after this many structural errors: the file is not tabular data. */
const MAX_STRUCTURAL_ERRORS = 200;
const MAX_ISSUES_KEPT = 50;

export class DatasetReadError extends Error {}
markErrorClass(DatasetReadError, 'DatasetReadError');

class FrameBuilder {
  readonly builders: ColumnBuilder[] = [];
  private readonly byName = new Map<string, ColumnBuilder>();
  rows = 0;
  issues: DatasetIssue[] = [];
  structuralErrors = 0;
  private readonly dropped: Set<string>;

  constructor(drop: string[] = []) {
    this.dropped = new Set(drop);
  }

  /** Dropped columns actually present in the data. */
  readonly droppedSeen = new Set<string>();

  column(name: string): ColumnBuilder | undefined {
    if (this.dropped.has(name)) {
      this.droppedSeen.add(name);
      return undefined;
    }
    let b = this.byName.get(name);
    if (!b) {
      b = new ColumnBuilder(name);
      for (let i = 0; i < this.rows; i++) b.push(null, 0); // a JSONL key first seen late: earlier rows miss it
      this.byName.set(name, b);
      this.builders.push(b);
    }
    return b;
  }

  structural(issue: DatasetIssue): void {
    this.structuralErrors++;
    if (this.issues.length < MAX_ISSUES_KEPT) this.issues.push(issue);
  }
}

export async function readDataset(filePath: string, opts: ReadOptions): Promise<ReadResult> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  const fb = new FrameBuilder(opts.drop);
  let bytes = 0;
  let nextProgress = 8 << 20;
  let tooBroken = false;

  let consume: (text: string) => void;
  let finish: () => void;

  if (opts.format === 'csv') {
    let header: (ColumnBuilder | undefined)[] | null = null;
    let headerNames: string[] = [];
    const parser = new CsvParser((fields, line) => {
      if (header === null) {
        headerNames = fields.map((f) => f.trim());
        const seen = new Set<string>();
        headerNames.forEach((h, i) => {
          if (h === '') headerNames[i] = h = `column_${i + 1}`;
          if (seen.has(h)) {
            throw new DatasetReadError(
              `line ${line}: the header names column '${h}' twice; rename one of them so every column name is unique`
            );
          }
          seen.add(h);
        });
        header = headerNames.map((h) => fb.column(h));
        return;
      }
      if (fields.length !== headerNames.length) {
        fb.structural({
          severity: 'error',
          code: 'ragged_row',
          line,
          message: `line ${line} has ${fields.length} fields but the header has ${headerNames.length}; fix the row (quote fields that contain commas)`,
        });
        if (fb.structuralErrors >= MAX_STRUCTURAL_ERRORS) tooBroken = true;
        return;
      }
      for (let i = 0; i < fields.length; i++) header[i]?.push(fields[i], line);
      fb.rows++;
    });
    consume = (text) => parser.push(text);
    finish = () => parser.end();
  } else {
    let rest = '';
    let line = 0;
    const handleLine = (raw: string) => {
      line++;
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch {
        fb.structural({
          severity: 'error',
          code: 'bad_json',
          line,
          message: `line ${line} is not valid JSON; each line must be one JSON object`,
        });
        if (fb.structuralErrors >= MAX_STRUCTURAL_ERRORS) tooBroken = true;
        return;
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        fb.structural({
          severity: 'error',
          code: 'not_an_object',
          line,
          message: `line ${line} is JSON but not an object; each line must be {"column": value, ...}`,
        });
        if (fb.structuralErrors >= MAX_STRUCTURAL_ERRORS) tooBroken = true;
        return;
      }
      const record = obj as Record<string, unknown>;
      const seen = new Set<ColumnBuilder>();
      for (const key of Object.keys(record)) {
        const b = fb.column(key);
        if (!b) continue;
        b.push(record[key], line);
        seen.add(b);
      }
      for (const b of fb.builders) if (!seen.has(b)) b.push(null, line);
      fb.rows++;
    };
    consume = (text) => {
      let start = 0;
      const chunk = rest + text;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        handleLine(chunk.slice(start, nl));
        start = nl + 1;
        if (tooBroken) break;
      }
      rest = chunk.slice(start);
    };
    finish = () => {
      if (rest.length > 0) handleLine(rest);
      rest = '';
    };
  }

  const stream = createReadStream(filePath, { highWaterMark: 1 << 20 });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      hash.update(buf);
      bytes += buf.length;
      if (bytes >= nextProgress) {
        opts.onProgress?.(bytes);
        nextProgress += 8 << 20;
      }
      if (buf.includes(0)) {
        throw new DatasetReadError(
          `the file has NUL bytes near byte ${bytes}: it is binary or corrupt, not ${opts.format.toUpperCase()} text; re-export it as UTF-8 ${opts.format.toUpperCase()}`
        );
      }
      consume(decoder.write(buf));
      if (tooBroken) break;
    }
    if (!tooBroken) {
      consume(decoder.end());
      finish();
    }
  } catch (err) {
    if (err instanceof CsvParseError) throw new DatasetReadError(err.message + '; fix the quoting');
    throw err;
  } finally {
    stream.destroy();
  }
  if (tooBroken) {
    throw new DatasetReadError(
      `stopped after ${MAX_STRUCTURAL_ERRORS} malformed rows (first: ${fb.issues[0]?.message}); the file is not valid ${opts.format.toUpperCase()}`
    );
  }

  const columns: ColumnSummary[] = [];
  const frame: Frame = { length: fb.rows, columns: {} };
  for (const b of fb.builders) {
    const override = opts.types?.[b.name];
    const type: ColumnType = override ?? b.inferType();
    const summary = b.summary(type, override ? 'override' : 'inferred');
    columns.push(summary);
    if (type === 'numeric') frame.columns[b.name] = b.numeric();
    else if (!summary.tooManyCategories) frame.columns[b.name] = b.categorical();
  }
  for (const name of Object.keys(opts.types ?? {})) {
    if (!fb.builders.some((b) => b.name === name) && !(opts.drop ?? []).includes(name)) {
      fb.issues.push({
        severity: 'error',
        code: 'unknown_column',
        column: name,
        message: `features.types names column '${name}', which is not in the dataset; columns are: ${fb.builders
          .map((b) => b.name)
          .join(', ')}`,
      });
    }
  }
  for (const name of opts.drop ?? []) {
    if (!fb.droppedSeen.has(name)) {
      fb.issues.push({
        severity: 'warning',
        code: 'unknown_drop',
        column: name,
        message: `features.drop names column '${name}', which is not in the dataset; check the spelling`,
      });
    }
  }
  return { frame, columns, issues: fb.issues, sha256: hash.digest('hex'), bytes, rows: fb.rows, format: opts.format };
}

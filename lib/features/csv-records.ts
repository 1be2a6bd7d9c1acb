// Streams a CSV file with a header as records (field arrays) plus the header's column index,
// for the feature engine: one pass, constant memory per record, line numbers for errors.
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { CsvParser } from '../ml/dataset/csv';
import { isMissingCell } from '../ml/dataset/columns';
import { markErrorClass } from '../workflow-safe/typed-error';

export class FeatureDataError extends Error {}
markErrorClass(FeatureDataError, 'FeatureDataError');

export interface CsvRecord {
  fields: string[];
  line: number;
}

export interface CsvStream {
  header: string[];
  /** Column name -> index; throws FeatureDataError naming the file's columns when absent. */
  index(column: string, what: string): number;
  /** The records one at a time; or `batches`, the same records a read chunk at a time (faster). Use one. */
  records: AsyncGenerator<CsvRecord>;
  batches: AsyncGenerator<CsvRecord[]>;
  /** Stops reading early (closes the file). */
  close(): Promise<void>;
}

/** Opens `file` (shown as `label` in errors) and reads its header. */
export async function openCsv(file: string, label: string): Promise<CsvStream> {
  const gen = recordBatches(file);
  let first = await gen.next();
  while (!first.done && first.value.length === 0) first = await gen.next();
  if (first.done) throw new FeatureDataError(`${label} is empty; it needs a header line and rows`);
  const header = first.value[0].fields.map((f) => f.trim());
  const afterHeader = first.value.slice(1);
  const batches = (async function* () {
    if (afterHeader.length > 0) yield afterHeader;
    yield* gen;
  })();
  const byName = new Map(header.map((h, i) => [h, i]));
  return {
    header,
    index(column, what) {
      const i = byName.get(column);
      if (i === undefined)
        throw new FeatureDataError(
          `${what} names column '${column}', which ${label} does not have; its columns are: ${header.join(', ')}`
        );
      return i;
    },
    records: (async function* () {
      for await (const batch of batches) yield* batch;
    })(),
    batches,
    async close() {
      await gen.return(undefined);
    },
  };
}

async function* recordBatches(file: string): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder('utf8');
  let batch: CsvRecord[] = [];
  const parser = new CsvParser((fields, line) => batch.push({ fields, line }));
  for await (const buf of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    parser.push(decoder.write(buf));
    const out = batch;
    batch = [];
    yield out;
  }
  parser.push(decoder.end());
  parser.end();
  yield batch;
}

export type Cell = number | string | null;

/** A cell as the feature engine sees it: missing -> null, numeric text -> number, else text. */
export function cellValue(text: string | undefined): Cell {
  if (text === undefined) return null;
  const s = text.trim();
  if (isMissingCell(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

export function numericCell(text: string | undefined): number | null {
  const v = cellValue(text);
  return typeof v === 'number' ? v : null;
}

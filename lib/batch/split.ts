// Splits a CSV file into chunks of whole records, each at most `maxRows` records and about
// `maxBytes` bytes, streaming the file once: memory holds one chunk, never the file. Record
// boundaries are found by quote parity per physical line (a quoted field may span lines), so the
// split needs no full parse. Each chunk keeps its raw bytes and where it starts (first row
// number, first physical line), which is all the chunk scorer needs to name a bad row's line.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { parseCsvString } from '../ml/dataset/csv';
import { BatchInputError } from './errors';

export interface SplitLimits {
  maxRows: number;
  maxBytes: number;
}

export interface RawChunk {
  index: number;
  /** 1-based row number (header excluded) of the chunk's first record. */
  firstRow: number;
  /** Physical line number of the chunk's first byte. */
  firstLine: number;
  rows: number;
  bytes: Buffer;
}

export interface SplitResult {
  header: string[];
  rows: number;
  chunks: number;
  bytes: number;
  sha256: string;
}

export interface SplitHandlers {
  /** Sees the header before any chunk exists; throwing here stops the split. */
  onHeader(header: string[]): void;
  onChunk(chunk: RawChunk): Promise<void>;
  onProgress?(bytesRead: number): void;
  signal?: AbortSignal;
}

const QUOTE = 0x22;
const NL = 0x0a;
const CR = 0x0d;

function quotesIn(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let q = buf.indexOf(QUOTE, from); q !== -1 && q < to; q = buf.indexOf(QUOTE, q + 1)) n++;
  return n;
}

/** The header's trimmed, unique names (the same rules as readDataset). */
export function parseHeader(text: string): string[] {
  const fields = parseCsvString(text)[0]?.fields ?? [];
  const names = fields.map((f, i) => f.trim() || `column_${i + 1}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new BatchInputError(`the header names column '${n}' twice; rename one of them`);
    seen.add(n);
  }
  if (names.length === 0) throw new BatchInputError('the input file is empty; it needs a header line and rows');
  return names;
}

export async function splitCsvFile(file: string, limits: SplitLimits, h: SplitHandlers): Promise<SplitResult> {
  const hash = createHash('sha256');
  let header: string[] | null = null;
  let line = 1; // physical line of `carry`'s first byte
  let rowsTotal = 0;
  let index = 0;
  let bytesRead = 0;
  let carry: Buffer = Buffer.alloc(0);
  // The chunk being filled: complete records from earlier buffers, and its counters.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let chunkRows = 0;
  let chunkFirstLine = 2;

  const flush = async () => {
    if (chunkRows > 0) {
      const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      await h.onChunk({
        index: index++,
        firstRow: rowsTotal - chunkRows + 1,
        firstLine: chunkFirstLine,
        rows: chunkRows,
        bytes,
      });
    }
    pending = [];
    pendingBytes = 0;
    chunkRows = 0;
  };

  /** Scans whole records of `data`; returns the offset where the unfinished record starts. */
  const scan = async (data: Buffer, final: boolean): Promise<number> => {
    let pos = 0;
    let recStart = 0;
    let recLine = line;
    let segStart = 0; // start of this buffer's part of the current chunk
    let inQuotes = false;
    let physical = line;
    while (pos < data.length) {
      let nl = data.indexOf(NL, pos);
      if (nl === -1) {
        if (!final) break;
        nl = data.length; // last line without a newline
      }
      if (quotesIn(data, pos, nl) % 2 === 1) inQuotes = !inQuotes;
      physical++;
      pos = nl + 1;
      if (inQuotes) {
        if (final && pos >= data.length)
          throw new BatchInputError(`line ${recLine}: a quoted field is never closed; fix the quoting`);
        continue;
      }
      const end = Math.min(pos, data.length);
      const blank = recLine === physical - 1 && (nl === recStart || (nl === recStart + 1 && data[recStart] === CR));
      if (header === null) {
        if (!blank) {
          header = parseHeader(data.toString('utf8', recStart, end));
          h.onHeader(header);
          segStart = end;
          chunkFirstLine = physical;
        } else segStart = end;
      } else if (!blank) {
        chunkRows++;
        rowsTotal++;
        if (chunkRows >= limits.maxRows || pendingBytes + (end - segStart) >= limits.maxBytes) {
          pending.push(data.subarray(segStart, end));
          await flush();
          segStart = end;
          chunkFirstLine = physical;
        }
      }
      recStart = end;
      recLine = physical;
    }
    if (recStart > segStart) {
      pending.push(data.subarray(segStart, recStart));
      pendingBytes += recStart - segStart;
    }
    line = recLine;
    if (!final && data.length - recStart > limits.maxBytes) {
      throw new BatchInputError(
        `line ${recLine}: one record is longer than ${limits.maxBytes} bytes (an unclosed quote?); fix the file`
      );
    }
    return recStart;
  };

  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      if (h.signal?.aborted) throw h.signal.reason ?? new Error('aborted');
      hash.update(buf);
      bytesRead += buf.length;
      h.onProgress?.(bytesRead);
      const data = carry.length ? Buffer.concat([carry, buf]) : buf;
      const rest = await scan(data, false);
      // Copy, so the chunk slices pushed above do not pin this whole buffer longer than needed.
      carry = Buffer.from(data.subarray(rest));
    }
    if (carry.length) await scan(carry, true);
    await flush();
  } finally {
    stream.destroy();
  }
  if (header === null) throw new BatchInputError('the input file is empty; it needs a header line and rows');
  return { header, rows: rowsTotal, chunks: index, bytes: bytesRead, sha256: hash.digest('hex') };
}

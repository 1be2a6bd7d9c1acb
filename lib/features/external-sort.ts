// Sorts more records than fit in memory: records are buffered up to `runSize`, each full buffer
// is sorted and written to a temporary file as one text line per record (a "run", in the
// record type's own compact line format, not JSON: serialising runs was most of the join's
// time), and the runs are merged with a min-heap. Memory is bounded by runSize plus one small
// read chunk per run, never by the input: this is what keeps the point-in-time join and the
// materialization bounded whatever the history's size. Output comes in batches (arrays) so the
// consumer loops synchronously and awaits only once per batch, not once per record. Files live
// in `dir` and are removed.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

export type Compare<T> = (a: T, b: T) => number;

/** How a record is written to a run file as one line (no '\n' inside) and read back. */
export interface LineCodec<T> {
  encode(record: T): string;
  decode(line: string): T;
}

const jsonCodec: LineCodec<unknown> = { encode: (r) => JSON.stringify(r), decode: (l) => JSON.parse(l) as unknown };

/** Reads a file as lines, a read chunk of lines at a time (no readline: it is slower and buffers more). */
export async function* readLineBatches(file: string, chunkBytes: number): AsyncGenerator<string[]> {
  let rest = '';
  for await (const chunk of createReadStream(file, {
    encoding: 'utf8',
    highWaterMark: chunkBytes,
  }) as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  if (rest) yield [rest];
}

export async function writeAll(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
}

export async function closeStream(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** A run being merged: its decoded records of the current read chunk. */
interface RunCursor<T> {
  lines: AsyncGenerator<string[]>;
  batch: T[];
  pos: number;
}

/** A min-heap of run numbers keyed by each run's current record. */
class RunHeap<T> {
  private readonly items: number[] = [];
  constructor(
    private readonly runs: RunCursor<T>[],
    private readonly cmp: Compare<T>
  ) {}
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(src: number): void {
    const a = this.items;
    a.push(src);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      this.siftDown();
    }
  }
  /** The top run's current record changed: restore the heap order. */
  siftDown(): void {
    const a = this.items;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.less(a[l], a[m])) m = l;
      if (r < a.length && this.less(a[r], a[m])) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
  /** Ties break by run number, so equal records keep their input order (a stable sort). */
  private less(x: number, y: number): boolean {
    const rx = this.runs[x];
    const ry = this.runs[y];
    const c = this.cmp(rx.batch[rx.pos], ry.batch[ry.pos]);
    return c < 0 || (c === 0 && x < y);
  }
}

export interface SorterOptions<T> {
  /** Records held in memory before a run is written (default 200 000). */
  runSize?: number;
  /** Parent folder of the temporary run files (default the OS temp folder). */
  tmpDir: string;
  /** Line format of the run files (default JSON). */
  codec?: LineCodec<T>;
}

/** Records per batch that sortedBatches() yields. */
const OUT_BATCH = 8192;
/**
 * Bytes read (and records decoded) at a time from each run while merging: small, because every
 * run holds one such chunk of decoded records at once (50 runs at 10M rows).
 */
const RUN_CHUNK_BYTES = 1 << 16;

/**
 * Collects records with add(), then sortedBatches() (or sorted()) yields them in order
 * (stable). Call cleanup() when done (both also clean up when iterated to the end).
 */
export class ExternalSorter<T> {
  private buffer: T[] = [];
  private runs: string[] = [];
  private dir: string | undefined;
  private readonly runSize: number;
  private readonly codec: LineCodec<T>;
  count = 0;

  constructor(
    private readonly cmp: Compare<T>,
    private readonly opts: SorterOptions<T>
  ) {
    this.runSize = opts.runSize ?? 200_000;
    this.codec = (opts.codec ?? jsonCodec) as LineCodec<T>;
  }

  /** Adds a record; returns a promise only when the buffer was full and is being written (await it then). */
  add(record: T): Promise<void> | undefined {
    this.buffer.push(record);
    this.count++;
    return this.buffer.length >= this.runSize ? this.spill() : undefined;
  }

  private async spill(): Promise<void> {
    if (this.buffer.length === 0) return;
    this.dir ??= await mkdtemp(path.join(this.opts.tmpDir, 'sort-'));
    const sorted = this.buffer.sort(this.cmp); // Array#sort is stable
    this.buffer = [];
    const file = path.join(this.dir, `run-${this.runs.length}.txt`);
    const out = createWriteStream(file);
    let lines: string[] = [];
    for (const r of sorted) {
      lines.push(this.codec.encode(r));
      if (lines.length === OUT_BATCH) {
        await writeAll(out, lines.join('\n') + '\n');
        lines = [];
      }
    }
    if (lines.length > 0) await writeAll(out, lines.join('\n') + '\n');
    await closeStream(out);
    this.runs.push(file);
  }

  async *sorted(): AsyncGenerator<T> {
    for await (const batch of this.sortedBatches()) yield* batch;
  }

  async *sortedBatches(): AsyncGenerator<T[]> {
    try {
      if (this.runs.length === 0) {
        const sorted = this.buffer.sort(this.cmp);
        this.buffer = [];
        for (let i = 0; i < sorted.length; i += OUT_BATCH) yield sorted.slice(i, i + OUT_BATCH);
        return;
      }
      await this.spill();
      const runs: RunCursor<T>[] = this.runs.map((f) => ({
        lines: readLineBatches(f, RUN_CHUNK_BYTES),
        batch: [],
        pos: 0,
      }));
      const refill = async (run: RunCursor<T>): Promise<boolean> => {
        const r = await run.lines.next();
        run.batch = r.done ? [] : r.value.map((l) => this.codec.decode(l));
        run.pos = 0;
        return run.batch.length > 0;
      };
      const heap = new RunHeap<T>(runs, this.cmp);
      for (let i = 0; i < runs.length; i++) if (await refill(runs[i])) heap.push(i);
      let out: T[] = [];
      while (heap.size > 0) {
        const src = heap.peek();
        const run = runs[src];
        out.push(run.batch[run.pos++]);
        if (run.pos < run.batch.length || (await refill(run))) heap.siftDown();
        else heap.pop();
        if (out.length === OUT_BATCH) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    } finally {
      await this.cleanup();
    }
  }

  async cleanup(): Promise<void> {
    this.buffer = [];
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs = [];
  }
}

// Sorts more records than fit in memory: records are buffered up to `runSize`, each full buffer
// is sorted and written to a temporary file as JSON lines (a "run"), and the runs are merged
// with a min-heap, one record per run in memory at a time. Memory is bounded by runSize and the
// number of runs, never by the input: this is what keeps the point-in-time join and the
// materialization bounded whatever the history's size. Files live in `dir` and are removed.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

export type Compare<T> = (a: T, b: T) => number;

/** Reads a file as lines, in chunks (no readline: it is slower and buffers more). */
export async function* readLines(file: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, {
    encoding: 'utf8',
    highWaterMark: 1 << 20,
  }) as AsyncIterable<string>) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      yield text.slice(start, nl);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest) yield rest;
}

export async function writeAll(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
}

export async function closeStream(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

class MinHeap<T> {
  private readonly items: { value: T; src: number }[] = [];
  constructor(private readonly cmp: Compare<T>) {}
  get size(): number {
    return this.items.length;
  }
  push(value: T, src: number): void {
    const a = this.items;
    a.push({ value, src });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): { value: T; src: number } {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
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
    return top;
  }
  /** Ties break by run number, so equal records keep their input order (a stable sort). */
  private less(x: { value: T; src: number }, y: { value: T; src: number }): boolean {
    const c = this.cmp(x.value, y.value);
    return c < 0 || (c === 0 && x.src < y.src);
  }
}

export interface SorterOptions {
  /** Records held in memory before a run is written (default 200 000). */
  runSize?: number;
  /** Parent folder of the temporary run files (default the OS temp folder). */
  tmpDir: string;
}

/**
 * Collects records with add(), then sorted() yields them in order (stable). Call cleanup()
 * when done (sorted() also cleans up when iterated to the end).
 */
export class ExternalSorter<T> {
  private buffer: T[] = [];
  private runs: string[] = [];
  private dir: string | undefined;
  private readonly runSize: number;
  count = 0;

  constructor(
    private readonly cmp: Compare<T>,
    private readonly opts: SorterOptions
  ) {
    this.runSize = opts.runSize ?? 200_000;
  }

  async add(record: T): Promise<void> {
    this.buffer.push(record);
    this.count++;
    if (this.buffer.length >= this.runSize) await this.spill();
  }

  private async spill(): Promise<void> {
    if (this.buffer.length === 0) return;
    this.dir ??= await mkdtemp(path.join(this.opts.tmpDir, 'sort-'));
    const sorted = this.buffer.sort(this.cmp); // Array#sort is stable
    this.buffer = [];
    const file = path.join(this.dir, `run-${this.runs.length}.jsonl`);
    const out = createWriteStream(file);
    let chunk = '';
    for (const r of sorted) {
      chunk += JSON.stringify(r) + '\n';
      if (chunk.length > 1 << 20) {
        await writeAll(out, chunk);
        chunk = '';
      }
    }
    await writeAll(out, chunk);
    await closeStream(out);
    this.runs.push(file);
  }

  async *sorted(): AsyncGenerator<T> {
    try {
      if (this.runs.length === 0) {
        const sorted = this.buffer.sort(this.cmp);
        this.buffer = [];
        yield* sorted;
        return;
      }
      await this.spill();
      const sources = this.runs.map((f) => readLines(f));
      const heap = new MinHeap<T>(this.cmp);
      const next = async (src: number) => {
        const r = await sources[src].next();
        if (!r.done) heap.push(JSON.parse(r.value) as T, src);
      };
      for (let i = 0; i < sources.length; i++) await next(i);
      while (heap.size > 0) {
        const { value, src } = heap.pop();
        yield value;
        await next(src);
      }
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

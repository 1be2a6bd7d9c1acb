// Feature rows of a view, computed from its source: each source row gives, at its event time,
// the view's features (plain columns and row transforms of that row, window aggregates over the
// entity's rows with event time in (t - window, t]). Rows come out sorted by entity and event
// time (an external sort, so memory is bounded whatever the history's length); at one entity
// and time the row read last wins. Both the point-in-time join and materialization read this.
import { parseTimestamp, TIMESTAMP_FORMATS } from './timestamps';
import { cellValue, FeatureDataError, numericCell, openCsv, type Cell } from './csv-records';
import { featureColumns, type FeatureDef, type ResolvedView } from './definition';
import { ExternalSorter } from './external-sort';
import { featureRowCodec } from './run-codec';

/** One entity's features at one event time. */
export interface FeatureRow {
  /** Entity key (the key columns' values; several joined by U+001F). */
  k: string;
  /** Event time, ms since the epoch. */
  t: number;
  /** Values in the view's feature order. */
  v: Cell[];
}

export const KEY_SEPARATOR = '\u001f';

/** Entity key text of a record; undefined when a key cell is empty. */
export function entityKey(values: (string | undefined)[]): string | undefined {
  const parts: string[] = [];
  for (const v of values) {
    const s = v?.trim();
    if (!s) return undefined;
    parts.push(s);
  }
  return parts.join(KEY_SEPARATOR);
}

export function compareKeyTime(a: { k: string; t: number }, b: { k: string; t: number }): number {
  // Equality first: one string comparison for the common case of an entity's own rows.
  return a.k === b.k ? a.t - b.t : a.k < b.k ? -1 : 1;
}

function rowValue(f: FeatureDef, cells: (string | undefined)[]): Cell {
  if (f.log !== undefined) {
    const x = numericCell(cells[0]);
    return x === null || x < 0 ? null : Math.log1p(x);
  }
  if (f.ratio) {
    const n = numericCell(cells[0]);
    const d = numericCell(cells[1]);
    return n === null || d === null || d === 0 ? null : n / d;
  }
  if (f.bucket !== undefined) {
    const x = numericCell(cells[0]);
    if (x === null) return null;
    const edges = f.edges!;
    let b = 0;
    while (b < edges.length && x >= edges[b]) b++;
    return b;
  }
  if (f.agg === 'count') return f.column === undefined ? 1 : cellValue(cells[0]) === null ? null : 1;
  if (f.agg) return numericCell(cells[0]);
  return cellValue(cells[0]);
}

/** A window over one entity's recent values: (t - width, t]. */
class Window {
  private ts: number[] = [];
  private xs: number[] = [];
  private head = 0;
  private sum = 0;
  constructor(
    readonly width: number,
    readonly agg: NonNullable<FeatureDef['agg']>
  ) {}
  reset(): void {
    this.ts = [];
    this.xs = [];
    this.head = 0;
    this.sum = 0;
  }
  add(t: number, x: number | null): Cell {
    if (x !== null) {
      this.ts.push(t);
      this.xs.push(x);
      this.sum += x;
    }
    while (this.head < this.ts.length && this.ts[this.head] <= t - this.width) this.sum -= this.xs[this.head++];
    if (this.head > 1024 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.xs = this.xs.slice(this.head);
      this.head = 0;
    }
    const n = this.ts.length - this.head;
    switch (this.agg) {
      case 'count':
        return n;
      case 'sum':
        return n === 0 ? 0 : this.sum;
      case 'mean':
        return n === 0 ? null : this.sum / n;
      case 'min':
      case 'max': {
        if (n === 0) return null;
        let m = this.xs[this.head];
        for (let i = this.head + 1; i < this.xs.length; i++)
          m = this.agg === 'min' ? Math.min(m, this.xs[i]) : Math.max(m, this.xs[i]);
        return m;
      }
    }
  }
}

export interface ComputeOptions {
  /** Absolute path of the source CSV. */
  file: string;
  /** Parent folder for the sort's temporary files. */
  tmpDir: string;
  /** Only rows with event time in [start, end) come out (windows still see earlier rows). */
  start?: number;
  end?: number;
  runSize?: number;
  /** Called every 100 000 source rows read. */
  onProgress?(rowsRead: number): void;
}

/** The view's feature rows, sorted by (entity, event time). */
export async function* computeFeatureRows(r: ResolvedView, opts: ComputeOptions): AsyncGenerator<FeatureRow> {
  for await (const batch of computeFeatureRowBatches(r, opts)) yield* batch;
}

/** computeFeatureRows a batch at a time (the join reads these: one await per batch, not per row). */
export async function* computeFeatureRowBatches(r: ResolvedView, opts: ComputeOptions): AsyncGenerator<FeatureRow[]> {
  const { view, entity } = r;
  const label = `source ${view.source.path} of view '${view.name}'`;
  const csv = await openCsv(opts.file, label);
  const keyIdx = entity.keys.map((k) => csv.index(k, `entity '${entity.name}' key`));
  const tsIdx = csv.index(view.timestamp!, `view '${view.name}' timestamp`);
  const colIdx = view.features.map((f) => featureColumns(f).map((c) => csv.index(c, `feature '${f.name}'`)));
  const sorter = new ExternalSorter<FeatureRow>(compareKeyTime, {
    tmpDir: opts.tmpDir,
    runSize: opts.runSize,
    codec: featureRowCodec,
  });
  const lookback = Math.max(0, ...view.features.map((f) => f.window ?? 0));
  const from = opts.start === undefined ? -Infinity : opts.start - lookback;
  const width = view.features.length;
  let read = 0;
  try {
    for await (const batch of csv.batches) {
      for (const { fields, line } of batch) {
        const k = entityKey(keyIdx.map((i) => fields[i]));
        if (k === undefined)
          throw new FeatureDataError(
            `${label}, line ${line}: the entity key (${entity.keys.join(', ')}) is empty; every row needs its entity`
          );
        const t = parseTimestamp(fields[tsIdx] ?? '');
        if (t === undefined)
          throw new FeatureDataError(
            `${label}, line ${line}: '${(fields[tsIdx] ?? '').slice(0, 40)}' in column '${view.timestamp}' is not a timestamp; ${TIMESTAMP_FORMATS}`
          );
        // Rows past the end, or older than the longest window before the start, never count.
        if ((opts.end !== undefined && t >= opts.end) || t < from) continue;
        const v: Cell[] = new Array<Cell>(width);
        for (let j = 0; j < width; j++)
          v[j] = rowValue(
            view.features[j],
            colIdx[j].map((i) => fields[i])
          );
        const spilling = sorter.add({ k, t, v });
        if (spilling) await spilling;
        if (++read % 100_000 === 0) opts.onProgress?.(read);
      }
    }
    const windows = view.features.map((f) => (f.agg ? new Window(f.window!, f.agg) : undefined));
    const windowed = windows.some((w) => w !== undefined);
    let current: string | undefined;
    for await (const batch of sorter.sortedBatches()) {
      if (windowed)
        for (const row of batch) {
          if (row.k !== current) {
            current = row.k;
            for (const w of windows) w?.reset();
          }
          for (let j = 0; j < windows.length; j++) {
            const w = windows[j];
            if (w) row.v[j] = w.add(row.t, row.v[j] as number | null);
          }
        }
      yield opts.start === undefined ? batch : batch.filter((row) => row.t >= opts.start!);
    }
  } finally {
    await sorter.cleanup();
    await csv.close();
  }
}

// The point-in-time join that builds a training set from a label file and feature views. For
// each label row and view: the view's latest feature row of the same entity with event time <=
// the label time, used only when label time - event time <= the view's TTL; otherwise the
// view's features are null (missing values, which training imputes as it does any missing
// cell). Nothing later than the label time is ever read, so no future value leaks in.
//
// It is a sort-merge: labels and feature rows are each sorted by (entity, time) with the
// external sorter, walked together once, and the matches re-sorted by label row to write the
// output in the label file's order. Memory is bounded by the sorter's run size; no table of the
// whole feature history (or of the labels) is ever built.
import { createWriteStream } from 'node:fs';
import { csvField } from '../ml/dataset/csv';
import { parseTimestamp, TIMESTAMP_FORMATS } from './timestamps';
import { FeatureDataError, openCsv, type Cell } from './csv-records';
import { compareKeyTime, computeFeatureRowBatches, entityKey, type FeatureRow } from './compute';
import type { ResolvedView } from './definition';
import { closeStream, ExternalSorter, writeAll } from './external-sort';
import { labelKeyCodec, matchCodec } from './run-codec';

export interface JoinView extends ResolvedView {
  /** Absolute path of the view's source CSV. */
  file: string;
  /** `name@vN`, for messages. */
  ref: string;
}

export interface JoinOptions {
  /** Absolute path of the label (entity) CSV, and how errors name it. */
  labels: string;
  labelsName: string;
  /** Label-time column of the label file. */
  timestamp: string;
  views: JoinView[];
  /** Where the training set CSV is written. */
  out: string;
  tmpDir: string;
  runSize?: number;
  onProgress?(stage: string, rows: number): void;
}

export interface ViewJoinStats {
  ref: string;
  /** Label rows that got a value. */
  matched: number;
  /** Label rows whose latest earlier value was older than the TTL (null features). */
  expired: number;
  /** Label rows with no earlier value at all (null features). */
  missing: number;
}

export interface JoinResult {
  rows: number;
  columns: string[];
  views: ViewJoinStats[];
}

interface LabelKey {
  k: string;
  t: number;
  i: number;
}

interface Match {
  i: number;
  v: Cell[] | null;
}

/** Reads a stream of batches one record at a time, awaiting only when a batch runs out. */
class BatchCursor<T> {
  private batch: T[] = [];
  private pos = 0;
  private done = false;
  constructor(private readonly source: AsyncGenerator<T[]>) {}
  /** The current record, or undefined at the end; call fill() first when `ready` is false. */
  get ready(): boolean {
    return this.done || this.pos < this.batch.length;
  }
  async fill(): Promise<void> {
    while (!this.done && this.pos >= this.batch.length) {
      const r = await this.source.next();
      if (r.done) this.done = true;
      else {
        this.batch = r.value;
        this.pos = 0;
      }
    }
  }
  get current(): T | undefined {
    return this.pos < this.batch.length ? this.batch[this.pos] : undefined;
  }
  advance(): void {
    this.pos++;
  }
  async close(): Promise<void> {
    await this.source.return(undefined as never);
  }
}

/** The view's matches for every label row, sorted by label row number. */
async function joinView(
  view: JoinView,
  opts: JoinOptions
): Promise<{ sorted: ExternalSorter<Match>; stats: ViewJoinStats }> {
  const csv = await openCsv(opts.labels, opts.labelsName);
  const keyIdx = view.entity.keys.map((k) => csv.index(k, `entity '${view.entity.name}' key (view ${view.ref})`));
  const tsIdx = csv.index(opts.timestamp, 'dataset.features.timestamp');
  const labels = new ExternalSorter<LabelKey>((x, y) => compareKeyTime(x, y) || x.i - y.i, {
    tmpDir: opts.tmpDir,
    runSize: opts.runSize,
    codec: labelKeyCodec,
  });
  const matches = new ExternalSorter<Match>((x, y) => x.i - y.i, {
    tmpDir: opts.tmpDir,
    runSize: opts.runSize,
    codec: matchCodec,
  });
  const stats: ViewJoinStats = { ref: view.ref, matched: 0, expired: 0, missing: 0 };
  try {
    let i = 0;
    for await (const batch of csv.batches)
      for (const { fields, line } of batch) {
        const k = entityKey(keyIdx.map((j) => fields[j])) ?? '';
        const t = parseTimestamp(fields[tsIdx] ?? '');
        if (t === undefined)
          throw new FeatureDataError(
            `${opts.labelsName}, line ${line}: '${(fields[tsIdx] ?? '').slice(0, 40)}' in column '${opts.timestamp}' is not a timestamp; ${TIMESTAMP_FORMATS}`
          );
        const spilling = labels.add({ k, t, i: i++ });
        if (spilling) await spilling;
      }
    opts.onProgress?.(`labels sorted for ${view.ref}`, i);
    const features = new BatchCursor(
      computeFeatureRowBatches(view, { file: view.file, tmpDir: opts.tmpDir, runSize: opts.runSize })
    );
    let last: FeatureRow | undefined;
    try {
      for await (const batch of labels.sortedBatches())
        for (const l of batch) {
          // Advance over every feature row at or before (entity, label time): the last one is the match.
          for (;;) {
            if (!features.ready) await features.fill();
            const f = features.current;
            if (f === undefined || compareKeyTime(f, l) > 0) break;
            last = f;
            features.advance();
          }
          let v: Cell[] | null = null;
          if (l.k === '' || !last || last.k !== l.k) stats.missing++;
          else if (l.t - last.t > view.view.ttl) stats.expired++;
          else {
            v = last.v;
            stats.matched++;
          }
          const spilling = matches.add({ i: l.i, v });
          if (spilling) await spilling;
        }
    } finally {
      await features.close();
    }
    return { sorted: matches, stats };
  } catch (err) {
    await matches.cleanup();
    throw err;
  } finally {
    await labels.cleanup();
    await csv.close();
  }
}

/** Feature columns in the training set: the views' feature names, which must not collide. */
function featureColumnNames(views: JoinView[], labelHeader: string[]): string[] {
  const owner = new Map<string, string>(labelHeader.map((h) => [h, 'a column of the label file']));
  const names: string[] = [];
  for (const v of views) {
    for (const f of v.view.features) {
      const prior = owner.get(f.name);
      if (prior)
        throw new FeatureDataError(`feature '${f.name}' of ${v.ref} has the same name as ${prior}; rename one of them`);
      owner.set(f.name, `a feature of ${v.ref}`);
      names.push(f.name);
    }
  }
  return names;
}

function cellText(v: Cell): string {
  if (v === null) return '';
  return typeof v === 'number' ? String(v) : csvField(v);
}

/**
 * Writes the training set to `opts.out`: the label file's columns (without the entity keys and
 * the label time, which are join keys, not features) followed by each view's features.
 */
export async function pointInTimeJoin(opts: JoinOptions): Promise<JoinResult> {
  const head = await openCsv(opts.labels, opts.labelsName);
  await head.close();
  const dropped = new Set([opts.timestamp, ...opts.views.flatMap((v) => v.entity.keys)]);
  const kept = head.header.map((h, i) => ({ h, i })).filter((c) => !dropped.has(c.h));
  const featureNames = featureColumnNames(opts.views, head.header);
  const joined: { sorted: ExternalSorter<Match>; stats: ViewJoinStats }[] = [];
  try {
    for (const view of opts.views) joined.push(await joinView(view, opts));
    const streams = joined.map((j) => new BatchCursor(j.sorted.sortedBatches()));
    const csv = await openCsv(opts.labels, opts.labelsName);
    const out = createWriteStream(opts.out);
    const columns = [...kept.map((c) => c.h), ...featureNames];
    let chunk = columns.map(csvField).join(',') + '\n';
    let rows = 0;
    try {
      for await (const batch of csv.batches)
        for (const { fields } of batch) {
          const parts = kept.map((c) => csvField(fields[c.i] ?? ''));
          for (let j = 0; j < streams.length; j++) {
            if (!streams[j].ready) await streams[j].fill();
            const m = streams[j].current;
            if (m === undefined || m.i !== rows) throw new Error(`join of ${opts.views[j].ref} lost label row ${rows}`);
            streams[j].advance();
            const width = opts.views[j].view.features.length;
            for (let f = 0; f < width; f++) parts.push(m.v ? cellText(m.v[f]) : '');
          }
          chunk += parts.join(',') + '\n';
          if (chunk.length > 1 << 20) {
            await writeAll(out, chunk);
            chunk = '';
          }
          if (++rows % 100_000 === 0) opts.onProgress?.('written', rows);
        }
      await writeAll(out, chunk);
      await closeStream(out);
    } finally {
      for (const s of streams) await s.close();
      await csv.close();
    }
    return { rows, columns, views: joined.map((j) => j.stats) };
  } finally {
    for (const j of joined) await j.sorted.cleanup();
  }
}

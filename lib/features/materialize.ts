// One materialization partition: the view's feature rows with event time in [start, end) are
// written to the artifact store as sorted JSON lines (content-addressed, so a retry writes the
// same artifact), each entity's newest row goes to the online store (newer event time wins), and
// the partition is recorded once on the materialization document. Memory is bounded by one
// partition's rows, whatever the range: the range is cut into partitions before any is read.
import type { Store } from '../store/db';
import { putArtifact, type ArtifactRef } from '../store/artifacts';
import { featureMaterializations, type FeatureViewDoc, type PartitionDoc } from '../store/feature-views';
import { onlineId, upsertOnline } from '../store/features-online';
import type { Cell } from './csv-records';
import { computeFeatureRows, type FeatureRow } from './compute';
import type { TimePartition } from '../workflow-safe/feature-partitions';

export const MEDIA_FEATURE_ROWS = 'application/x-ndjson';
const ONLINE_BATCH = 1_000;

export interface PartitionResult {
  rows: number;
  onlineWrites: number;
  artifact: ArtifactRef;
}

export async function materializePartition(
  store: Pick<Store, 'db' | 'keyring'>,
  opts: {
    doc: FeatureViewDoc;
    file: string;
    tmpDir: string;
    partition: TimePartition;
    onProgress?(rows: number): void;
  }
): Promise<PartitionResult> {
  const { doc, partition } = opts;
  const names = doc.view.features.map((f) => f.name);
  const lines: string[] = [];
  let pending: { _id: string; t: number; values: Record<string, Cell> }[] = [];
  let onlineWrites = 0;
  let last: FeatureRow | undefined;
  const flushEntity = async () => {
    if (!last) return;
    const values: Record<string, Cell> = {};
    names.forEach((n, i) => (values[n] = last!.v[i]));
    pending.push({ _id: onlineId(doc.name, doc.version, last.k), t: last.t, values });
    if (pending.length >= ONLINE_BATCH) {
      onlineWrites += await upsertOnline(store, pending);
      pending = [];
    }
  };
  const rows = computeFeatureRows(
    { view: doc.view, entity: doc.entity },
    { file: opts.file, tmpDir: opts.tmpDir, start: partition.start, end: partition.end, onProgress: opts.onProgress }
  );
  for await (const row of rows) {
    if (last && last.k !== row.k) await flushEntity();
    last = row;
    lines.push(JSON.stringify(row));
  }
  await flushEntity();
  onlineWrites += await upsertOnline(store, pending);
  const artifact = await putArtifact(
    store,
    Buffer.from(lines.join('\n') + (lines.length ? '\n' : '')),
    MEDIA_FEATURE_ROWS,
    {
      kind: 'feature-partition',
      view: `${doc.name}@v${doc.version}`,
    }
  );
  return { rows: lines.length, onlineWrites, artifact };
}

/** Records a finished partition once (a retried activity finds it there and adds nothing). */
export async function recordPartition(
  store: Pick<Store, 'db'>,
  materializationId: string,
  partition: TimePartition,
  result: PartitionResult
): Promise<void> {
  const p: PartitionDoc = {
    start: new Date(partition.start),
    end: new Date(partition.end),
    rows: result.rows,
    artifact: result.artifact,
  };
  await featureMaterializations(store.db).updateOne(
    { _id: materializationId, 'partitions.start': { $ne: p.start } },
    { $push: { partitions: p }, $inc: { rows: result.rows, onlineWrites: result.onlineWrites } }
  );
}

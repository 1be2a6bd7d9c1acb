// `feature_views`: every version of every feature view (_id "<name>@v<N>", unique by name+version
// and by name+hash), never overwritten, so a model trained on customer_stats@v3 can always read
// the definition it was trained with. `feature_materializations`: one document per materialized
// (view version, time range), with its partitions as they complete. `features_online`: one
// collection of latest values, _id "<view>@v<N>:<entity key>".
import type { Collection, Db } from 'mongodb';
import type { EntityDef, ViewDef } from '../features/definition';
import type { Store } from './db';
import { isDuplicateKey } from './errors';
import type { MaterializationStatus } from '../workflow-safe/statuses';

export const FEATURE_VIEWS = 'feature_views';
export const FEATURE_MATERIALIZATIONS = 'feature_materializations';

export interface FeatureSchemaField {
  name: string;
  kind: 'column' | 'log' | 'ratio' | 'bucket' | 'window';
}

export interface FeatureViewDoc {
  _id: string;
  name: string;
  version: number;
  hash: string;
  view: ViewDef;
  entity: EntityDef;
  createdAt: Date;
  createdBy: string;
}

export function featureViews(db: Db): Collection<FeatureViewDoc> {
  return db.collection<FeatureViewDoc>(FEATURE_VIEWS);
}

export async function ensureFeatureIndexes(db: Db): Promise<void> {
  await featureViews(db).createIndex({ name: 1, version: 1 }, { unique: true });
  await featureViews(db).createIndex({ name: 1, hash: 1 }, { unique: true });
  await featureMaterializations(db).createIndex({ view: 1, version: 1, endedAt: -1 });
}

export function viewId(name: string, version: number): string {
  return `${name}@v${version}`;
}

/**
 * Stores the view's definition under its hash: the existing version when this content was
 * applied before, else the next version number (a racing writer's number is retried).
 */
export async function putFeatureView(
  store: Pick<Store, 'db'>,
  def: { view: ViewDef; entity: EntityDef; hash: string },
  createdBy: string
): Promise<{ doc: FeatureViewDoc; created: boolean }> {
  const col = featureViews(store.db);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await col.findOne({ name: def.view.name, hash: def.hash });
    if (existing) return { doc: existing, created: false };
    const latest = await col.find({ name: def.view.name }).sort({ version: -1 }).limit(1).next();
    const version = (latest?.version ?? 0) + 1;
    const doc: FeatureViewDoc = {
      _id: viewId(def.view.name, version),
      name: def.view.name,
      version,
      hash: def.hash,
      view: def.view,
      entity: def.entity,
      createdAt: new Date(),
      createdBy,
    };
    try {
      await col.insertOne(doc);
      return { doc, created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  throw new Error(`could not allocate a version for feature view ${def.view.name}: too many concurrent applies`);
}

/** One version: by number, by hash prefix, or the latest when neither is given. */
export async function getFeatureView(
  store: Pick<Store, 'db'>,
  ref: { name: string; version?: number; hash?: string }
): Promise<FeatureViewDoc | null> {
  const col = featureViews(store.db);
  if (ref.version !== undefined) return col.findOne({ _id: viewId(ref.name, ref.version) });
  const found = await col
    .find({ name: ref.name })
    .sort({ version: -1 })
    .limit(ref.hash ? 1_000 : 1)
    .toArray();
  return (ref.hash ? found.find((d) => d.hash.startsWith(ref.hash!)) : found[0]) ?? null;
}

export async function listFeatureViewVersions(store: Pick<Store, 'db'>, name: string): Promise<FeatureViewDoc[]> {
  return featureViews(store.db).find({ name }).sort({ version: -1 }).limit(1_000).toArray();
}

/** The latest version of every view (names sorted), at most `limit` views. */
export async function listLatestFeatureViews(store: Pick<Store, 'db'>, limit = 500): Promise<FeatureViewDoc[]> {
  // Names and versions only (small), newest first per name; FerretDB v1 has no $max accumulator.
  const all = await featureViews(store.db)
    .find({}, { projection: { name: 1, version: 1 } })
    .sort({ name: 1, version: -1 })
    .limit(100_000)
    .toArray();
  const ids: string[] = [];
  all.forEach((d, i) => {
    if (ids.length < limit && d.name !== all[i - 1]?.name) ids.push(d._id);
  });
  if (ids.length === 0) return [];
  const docs = await featureViews(store.db)
    .find({ _id: { $in: ids } })
    .toArray();
  return docs.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface PartitionDoc {
  start: Date;
  end: Date;
  rows: number;
  /** Content-addressed offline partition (JSON lines of feature rows). */
  artifact: { uri: string; sha256: string; bytes: number; mediaType: string };
}

export interface MaterializationDoc {
  _id: string;
  view: string;
  version: number;
  start: Date;
  end: Date;
  status: MaterializationStatus;
  partitions: PartitionDoc[];
  partitionsTotal: number;
  rows: number;
  onlineWrites: number;
  workflowId: string;
  startedAt: Date;
  endedAt?: Date;
  error?: string;
}

export function featureMaterializations(db: Db): Collection<MaterializationDoc> {
  return db.collection<MaterializationDoc>(FEATURE_MATERIALIZATIONS);
}

export function materializationId(view: string, version: number, start: number, end: number): string {
  return `${viewId(view, version)}:${new Date(start).toISOString()}:${new Date(end).toISOString()}`;
}

export async function lastMaterialization(
  store: Pick<Store, 'db'>,
  view: string,
  version?: number
): Promise<MaterializationDoc | null> {
  return featureMaterializations(store.db)
    .find({ view, ...(version !== undefined ? { version } : {}), status: 'succeeded' })
    .sort({ endedAt: -1 })
    .limit(1)
    .next();
}

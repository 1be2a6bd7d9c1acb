// What GET /v1/features and `mlops features list|show` show of a view: its versions, the
// schema of its features, the last materialization and how fresh the online values are.
import type { Store } from '../store/db';
import {
  lastMaterialization,
  listFeatureViewVersions,
  listLatestFeatureViews,
  type FeatureViewDoc,
  type MaterializationDoc,
} from '../store/feature-views';
import { featureColumns, type FeatureDef } from './definition';

export function featureSchemaOf(f: FeatureDef) {
  const kind = f.agg
    ? 'window'
    : f.log !== undefined
      ? 'log'
      : f.ratio
        ? 'ratio'
        : f.bucket !== undefined
          ? 'bucket'
          : 'column';
  return {
    name: f.name,
    kind,
    columns: featureColumns(f),
    ...(f.agg ? { agg: f.agg, windowMs: f.window } : {}),
    ...(f.edges ? { edges: f.edges } : {}),
  };
}

function summary(doc: FeatureViewDoc) {
  return {
    name: doc.name,
    version: doc.version,
    ref: `${doc.name}@v${doc.version}`,
    hash: doc.hash,
    entity: doc.entity,
    source: doc.view.source,
    timestamp: doc.view.timestamp,
    ttlMs: doc.view.ttl,
    features: doc.view.features.map(featureSchemaOf),
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
  };
}

function materializationView(m: MaterializationDoc | null) {
  if (!m) return null;
  return {
    id: m._id,
    version: m.version,
    start: m.start,
    end: m.end,
    partitions: m.partitions.length,
    rows: m.rows,
    onlineWrites: m.onlineWrites,
    endedAt: m.endedAt,
    workflowId: m.workflowId,
  };
}

export async function listViews(store: Pick<Store, 'db'>) {
  const docs = await listLatestFeatureViews(store);
  return Promise.all(
    docs.map(async (d) => ({
      ...summary(d),
      lastMaterialization: materializationView(await lastMaterialization(store, d.name)),
    }))
  );
}

/** The view with every version, or null when no version exists. */
export async function describeView(store: Pick<Store, 'db'>, name: string, now = Date.now()) {
  const versions = await listFeatureViewVersions(store, name);
  if (versions.length === 0) return null;
  const last = await lastMaterialization(store, name);
  return {
    ...summary(versions[0]),
    versions: versions.map((v) => ({
      version: v.version,
      hash: v.hash,
      createdAt: v.createdAt,
      createdBy: v.createdBy,
    })),
    lastMaterialization: materializationView(last),
    // Freshness: how far behind now the online store's newest materialized range ends.
    freshness: last ? { materializedUntil: last.end, lagMs: Math.max(0, now - last.end.getTime()) } : null,
  };
}

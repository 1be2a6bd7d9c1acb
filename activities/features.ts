// CPU queue: the feature store's side effects. Materialization (open the range's document and
// say which partitions are done, materialize one partition, close the document) and the
// point-in-time join that turns a run spec's `dataset.features` into a training-set file.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseViewRef } from '../lib/features/definition';
import { pointInTimeJoin, type JoinResult, type JoinView } from '../lib/features/join';
import { materializePartition, recordPartition } from '../lib/features/materialize';
import type { TimePartition } from '../lib/workflow-safe/feature-partitions';
import { resolveUnderRoot } from '../lib/ml/dataset/paths';
import { checkWorkerMayRead } from '../lib/spec/residency';
import type { Config } from '../lib/config';
import {
  featureMaterializations,
  getFeatureView,
  lastMaterialization,
  type FeatureViewDoc,
} from '../lib/store/feature-views';
import type { FeatureViewLineage } from '../lib/store/models';
import { FAILURE } from '../lib/workflow-safe/failures';
import { heartbeat, type ActivityDeps } from './common';

export interface MaterializationRef {
  materializationId: string;
  view: string;
  version: number;
}

export interface OpenMaterializationInput extends MaterializationRef {
  start: number;
  end: number;
  partitionsTotal: number;
  workflowId: string;
}

async function mustGetView(deps: ActivityDeps, ref: string): Promise<FeatureViewDoc> {
  const parsed = parseViewRef(ref);
  const doc = parsed ? await getFeatureView(deps.store, parsed) : null;
  if (!doc) {
    throw ApplicationFailure.create({
      message: `feature view ${ref} does not exist; apply it with \`mlops features apply features.json\` (list them with \`mlops features list\`)`,
      type: FAILURE.DatasetError,
      nonRetryable: true,
    });
  }
  return doc;
}

async function sourceFile(cfg: ActivityDeps['cfg'], relPath: string): Promise<string> {
  checkWorkerMayRead(cfg as Config, relPath);
  return resolveUnderRoot(cfg.datasetsDir, relPath);
}

async function scratch(cfg: ActivityDeps['cfg']): Promise<string> {
  const dir = path.join(cfg.dataDir, 'features-tmp');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Builds the training-set CSV of a run whose dataset is `{ features: ... }`. */
export async function joinTrainingSet(
  deps: ActivityDeps,
  spec: { entities: string; timestamp: string; views: string[] },
  out: string
): Promise<{ result: JoinResult; lineage: FeatureViewLineage[] }> {
  const docs = await Promise.all(spec.views.map((v) => mustGetView(deps, v)));
  const views: JoinView[] = await Promise.all(
    docs.map(async (d) => ({
      view: d.view,
      entity: d.entity,
      file: await sourceFile(deps.cfg, d.view.source.path),
      ref: `${d.name}@v${d.version}`,
    }))
  );
  const result = await pointInTimeJoin({
    labels: await sourceFile(deps.cfg, spec.entities),
    labelsName: spec.entities,
    timestamp: spec.timestamp,
    views,
    out,
    tmpDir: await scratch(deps.cfg),
    onProgress: (stage, rows) => heartbeat({ stage, rows }),
  });
  const lineage = await Promise.all(
    docs.map(async (d, i) => {
      const m = await lastMaterialization(deps.store, d.name, d.version);
      return {
        view: d.name,
        version: d.version,
        hash: d.hash,
        source: d.view.source.path,
        materialization: m ? { id: m._id, end: m.end.toISOString() } : null,
        ...result.views[i],
      };
    })
  );
  return { result, lineage: lineage.map(({ ref: _ref, ...l }) => l) };
}

export function createFeatureActivities(deps: ActivityDeps) {
  return {
    /** Creates the range's document once; returns the starts of the partitions already done. */
    async openFeatureMaterialization(input: OpenMaterializationInput): Promise<{ done: number[] }> {
      const col = featureMaterializations(deps.store.db);
      await col.updateOne(
        { _id: input.materializationId },
        {
          $setOnInsert: {
            view: input.view,
            version: input.version,
            start: new Date(input.start),
            end: new Date(input.end),
            partitions: [],
            partitionsTotal: input.partitionsTotal,
            rows: 0,
            onlineWrites: 0,
            startedAt: new Date(),
          },
          $set: { status: 'running', workflowId: input.workflowId },
        },
        { upsert: true }
      );
      const doc = await col.findOne({ _id: input.materializationId });
      return { done: (doc?.partitions ?? []).map((p) => p.start.getTime()) };
    },

    /** Materializes one partition (offline artifact + online upserts) and records it once. */
    async materializeFeaturePartition(
      input: MaterializationRef & { partition: TimePartition }
    ): Promise<{ rows: number; onlineWrites: number }> {
      const doc = await mustGetView(deps, `${input.view}@v${input.version}`);
      const timer = setInterval(() => heartbeat({ partition: input.partition.start }), 5_000);
      try {
        const result = await materializePartition(deps.store, {
          doc,
          file: await sourceFile(deps.cfg, doc.view.source.path),
          tmpDir: await scratch(deps.cfg),
          partition: input.partition,
          onProgress: (rows) => heartbeat({ partition: input.partition.start, rows }),
        });
        if (deps.hooks?.afterFeaturePartition) await deps.hooks.afterFeaturePartition(input.partition);
        await recordPartition(deps.store, input.materializationId, input.partition, result);
        return { rows: result.rows, onlineWrites: result.onlineWrites };
      } finally {
        clearInterval(timer);
      }
    },

    async closeFeatureMaterialization(
      input: MaterializationRef & { status: 'succeeded' | 'failed'; error?: string }
    ): Promise<void> {
      await featureMaterializations(deps.store.db).updateOne(
        { _id: input.materializationId },
        { $set: { status: input.status, endedAt: new Date(), ...(input.error ? { error: input.error } : {}) } }
      );
    },
  };
}

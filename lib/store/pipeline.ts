// Indexes of every collection the pipeline writes (runs, run_events, metrics, models,
// model_versions, alias_moves, approvals, checkpoints, artifacts, feature_views, deployments). Idempotent; the pipeline's
// activities call it once per process before their first write, and the API may call it at start.
import type { Db } from 'mongodb';
import { ensureApprovalIndexes } from './approvals';
import { ensureArtifactIndexes } from './artifacts';
import { ensureDeploymentIndexes } from './deployment-records';
import { ensureEventIndexes } from './events';
import { ensureFeatureIndexes } from './feature-views';
import { ensureMetricIndexes } from './metrics';
import { ensureModelIndexes } from './models';
import { ensureRunIndexes } from './runs';

export async function ensurePipelineIndexes(db: Db): Promise<void> {
  await ensureRunIndexes(db);
  await ensureEventIndexes(db);
  await ensureMetricIndexes(db);
  await ensureModelIndexes(db);
  await ensureApprovalIndexes(db);
  await ensureArtifactIndexes(db);
  await ensureFeatureIndexes(db);
  await ensureDeploymentIndexes(db);
}

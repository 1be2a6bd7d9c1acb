// The API's response types, as the CLI reads them: z.infer of the same zod schemas that
// generate the OpenAPI document (type-only imports: the CLI ships none of the API's code).
export type { BatchJson, StartedBatchJson } from '../api/routes/batch-predictions';
export type {
  DeploymentDetailJson,
  DeploymentJson,
  DeploymentOverrideJson,
  StartedDeploymentJson,
} from '../api/routes/deployments';
export type { AliasMovedJson, ModelDetailJson, ModelJson, VersionJson } from '../api/routes/models';
export type { PolicyJson, SetPolicyJson } from '../api/routes/policy';
export type { MetricPointJson, RunDetailJson, RunEventJson, RunSummaryJson } from '../api/routes/run-views';
export type { DecisionJson, StartedRunJson } from '../api/routes/runs';
export type { WhoamiJson } from '../api/routes/tokens';

/** A page of a list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type {
  AppliedFeaturesJson,
  FeatureViewJson,
  FeatureViewSummaryJson,
  MaterializationJson,
  StartedMaterializationJson,
} from '../api/routes/features';
export type { MonitoringJson } from '../api/routes/monitoring';
export type { SchedulesPausedJson } from '../api/routes/schedules';

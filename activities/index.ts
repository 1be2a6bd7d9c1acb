// The activities of every fleet, grouped by task queue:
//   control: run history, the model registry and rollouts (light, many at once);
//   gpu:     training;
//   cpu:     ingest, validate, features, evaluate, optimise, batch inference chunks, monitoring windows.
//   cpu:     ingest, validate, features, evaluate, optimise, batch inference chunks,
//            feature materialization.
// workers/bootstrap.ts registers each group on its own queue; the `pipeline` workflow routes
// each call to the right queue with the queue names in its input.
import { createApprovalActivities } from './approval';
import { createDataActivities } from './data';
import { createEvaluateActivities } from './evaluate';
import { createHistoryActivities } from './history';
import { createRegistryActivities } from './registry';
import { createRolloutActivities } from './rollout';
import { createTrainActivities } from './train';
import { createCommandTrainerActivities } from './command-trainer';
import { createDistributedActivities } from './distributed';
import { createSearchActivities } from './search';
import { createMonitoringActivities } from './monitoring';
import { createBatchControlActivities, createBatchCpuActivities } from './batch';
import { createLifecycleControlActivities, createLifecycleCpuActivities } from './lifecycle';
import { createFeatureActivities } from './features';
import type { ActivityDeps } from './common';

export type { ActivityDeps, TestHooks } from './common';

export function createControlActivities(deps: ActivityDeps) {
  return {
    ...createHistoryActivities(deps),
    ...createApprovalActivities(deps),
    ...createRegistryActivities(deps),
    ...createRolloutActivities(deps),
    ...createSearchActivities(deps),
    ...createBatchControlActivities(deps),
    ...createLifecycleControlActivities(deps),
  };
}
export function createGpuActivities(deps: ActivityDeps) {
  return {
    ...createTrainActivities(deps),
    ...createCommandTrainerActivities(deps),
    ...createDistributedActivities(deps),
  };
}
export function createCpuActivities(deps: ActivityDeps) {
  return {
    ...createDataActivities(deps),
    ...createEvaluateActivities(deps),
    ...createBatchCpuActivities(deps),
    ...createMonitoringActivities(deps),
    ...createLifecycleCpuActivities(deps),
    ...createFeatureActivities(deps),
  };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type GpuActivities = ReturnType<typeof createGpuActivities>;
export type CpuActivities = ReturnType<typeof createCpuActivities>;

export function createActivities(deps: ActivityDeps): {
  control: ControlActivities;
  gpu: GpuActivities;
  cpu: CpuActivities;
} {
  return { control: createControlActivities(deps), gpu: createGpuActivities(deps), cpu: createCpuActivities(deps) };
}

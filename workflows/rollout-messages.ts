// Messages of the `rollout` workflow, safe to import from anywhere (API, CLI, tests, workflows):
//   update `override`  VouchedOverride -> OverrideAck: pause, resume, promote now, abort, signed by
//                      the API; the workflow checks the signature, four eyes and the state again
//   query  `rollout`   -> RolloutStatus (state, weight, step, the last gate with its numbers)
// One rollout per model at a time: its workflow id is rolloutWorkflowId(model).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { GateEvaluation } from '../activities/rollout';
import type { DeployStrategy } from '../lib/spec/deploy';
import type { DeploymentState } from '../lib/store/deployment-records';
import type { OverrideAction, OverrideRequest, VouchedOverride } from '../lib/workflow-safe/deploy-override';

export type { OverrideAction, OverrideRequest, VouchedOverride };

export function rolloutWorkflowId(model: string): string {
  return `rollout-${model}`;
}

export interface RolloutStatus {
  deploymentId: string;
  model: string;
  version: number;
  stable: number | null;
  strategy: DeployStrategy;
  state: DeploymentState;
  /** Percent of callers the candidate answers now. */
  weight: number;
  /** Index into the canary's steps (null before the first one and for other strategies). */
  step: number | null;
  steps: number[];
  lastGate: GateEvaluation | null;
  requestedBy: string;
  reason: string | null;
}

export interface OverrideAck {
  deploymentId: string;
  action: OverrideAction;
  actor: string;
}

export const overrideUpdate = defineUpdate<OverrideAck, [VouchedOverride]>('override');
export const rolloutQuery = defineQuery<RolloutStatus>('rollout');

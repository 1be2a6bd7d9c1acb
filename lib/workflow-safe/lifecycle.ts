// What starts a retraining, as every trigger source (schedule, dataset events, git webhooks, drift
// reports) and the per-model lifecycle workflow see it: one definition, pure types and names, safe
// to import from workflow code. Every trigger is sent by signal-with-start to the model's one
// lifecycle workflow (lib/lifecycle/trigger.ts), which coalesces them, applies the cooldown and
// the daily budget, and records each decision with its reason.

export const LIFECYCLE_WORKFLOW = 'modelLifecycle';
export const RETRAIN_TRIGGER_SIGNAL = 'retrainTrigger';

/** The lifecycle workflow's id: derived from the model, so a model has exactly one. */
export function lifecycleWorkflowId(model: string): string {
  return `lifecycle-${model}`;
}

export type RetrainTrigger =
  | { kind: 'schedule'; scheduleId: string; at: string }
  | { kind: 'data'; dataset: string; sha256: string; at: string }
  | { kind: 'commit'; repository: string; branch: string; sha: string; deliveryId: string; at: string }
  | { kind: 'drift'; reportId: string; at: string };

export type RetrainTriggerKind = RetrainTrigger['kind'];

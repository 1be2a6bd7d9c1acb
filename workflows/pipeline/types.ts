// The pipeline workflow's input and result: the contract with whoever starts a run (the API's
// start-run command, the lifecycle workflow, tests and benches). Types only.
import type { Duration } from '@temporalio/common';
import type { RunSpec, RunSpecInput } from '../../lib/spec/schema';
import type { RetrainTrigger } from '../../lib/workflow-safe/lifecycle';
import type { RunStatus } from '../messages';

/** Tuning knobs for tests and operators; production runs use the defaults. */
export interface PipelineOptions {
  /** Heartbeat timeout of training (default 60s): how soon a dead GPU worker is noticed. */
  trainHeartbeatTimeout?: Duration;
  /** First retry delay of every activity (default 1s). */
  retryInitialInterval?: Duration;
  /** Training continues as new past this many history events (default 2000; tests lower it). */
  trainHistoryLimit?: number;
}

export interface PipelineInput {
  /** The run id; also the workflow id. */
  runId: string;
  /**
   * The run spec: parsed (parseRunSpec output) or as the user wrote it; the first step validates
   * it and fills in the defaults (an invalid spec fails the run at once).
   */
  spec: RunSpec | RunSpecInput;
  /** Task queue names (workflows cannot read the environment), suffixed with the region. */
  queues: { control: string; gpu: string; cpu: string };
  /** Region the run is confined to (workflows/interceptors.ts carries it to every activity). */
  region?: string;
  /**
   * Subject of the token that started the run: the requester, who may not decide on it (checked by
   * the API and again by the workflow; a run without one cannot be approved).
   */
  createdBy?: string;
  /** What started the run when the model's lifecycle workflow did (recorded with the run). */
  triggers?: RetrainTrigger[];
  options?: PipelineOptions;
}

export interface PipelineResult {
  runId: string;
  status: RunStatus;
  model: string;
  version: number | null;
  reason: string | null;
  metrics: Record<string, unknown> | null;
  promotion: { version: number; previousVersion: number | null; serving: string } | null;
  /** `epochsRun` is null when the trainer did not report epochs (a command trainer; docs/trainers.md). */
  training: { epochsRun: number | null; resumedFromEpoch: number } | null;
}

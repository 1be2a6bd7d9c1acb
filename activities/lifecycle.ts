// The activities of the per-model lifecycle workflow (workflows/lifecycle.ts):
//   control: read the model's stored policy (with the queues its runs use), record a decision,
//            send a trigger (the action of the retrain schedule's tick workflow);
//   cpu:     fingerprint the policy spec's dataset (the sha256 a run would ingest), so the
//            same data never starts a second run. Datasets are read where the data lives.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { activityInfo, Context } from '@temporalio/activity';
import { signalRetrainTrigger } from '../lib/lifecycle/trigger';
import type { RetrainPolicy } from '../lib/spec/policy';
import type { RunSpec } from '../lib/spec';
import { regionQueues } from '../lib/workflow-safe/queues';
import { getAliasVersion } from '../lib/store/models';
import { getModelPolicy } from '../lib/store/policies';
import {
  ensureLifecycleDecisionIndexes,
  recordLifecycleDecision,
  type LifecycleDecisionInput,
} from '../lib/store/lifecycle-decisions';
import { noteDatasetFingerprint } from '../lib/store/dataset-fingerprints';
import type { RetrainTrigger } from '../lib/workflow-safe/lifecycle';
import { locateDataset } from './data';
import type { ActivityDeps } from './common';

export interface LifecycleContext {
  /** The stored retrain policy, or null when the model has none (triggers are then skipped). */
  retrain: RetrainPolicy | null;
  revision: number;
  /** Queues of the retraining runs (the spec's region applied). */
  queues: { control: string; gpu: string; cpu: string };
  /** The dataset sha256 the production model was trained on, if there is one. */
  productionSha256: string | null;
}

export function createLifecycleControlActivities(deps: ActivityDeps) {
  let indexed: Promise<void> | undefined;
  return {
    async lifecycleContext(input: { model: string }): Promise<LifecycleContext> {
      const doc = await getModelPolicy(deps.store, input.model);
      const retrain = doc?.policy.retrain ?? null;
      const prod = await getAliasVersion(deps.store, input.model, 'production');
      return {
        retrain,
        revision: doc?.revision ?? 0,
        queues: regionQueues(deps.cfg.queues, retrain?.spec.region),
        productionSha256: prod?.lineage.datasetSha256 ?? null,
      };
    },

    async recordLifecycleDecision(input: LifecycleDecisionInput): Promise<void> {
      indexed ??= ensureLifecycleDecisionIndexes(deps.store.db).catch((err) => {
        indexed = undefined;
        throw err;
      });
      await indexed;
      await recordLifecycleDecision(deps.store, input);
    },

    /** True when the interval data check sees a sha256 it did not see last time. */
    async noteDatasetFingerprint(input: { model: string; sha256: string }): Promise<boolean> {
      return noteDatasetFingerprint(deps.store, input.model, input.sha256);
    },

    /** Signal-with-start of the model's lifecycle workflow (the schedule tick's last step). */
    async sendRetrainTrigger(input: { model: string; trigger: RetrainTrigger }): Promise<void> {
      await signalRetrainTrigger(
        Context.current().client,
        { model: input.model, taskQueue: activityInfo().taskQueue },
        input.trigger
      );
    },
  };
}

export function createLifecycleCpuActivities(deps: ActivityDeps) {
  return {
    /** sha256 of the bytes a run of `spec` would ingest (the same fingerprint ingest records). */
    async fingerprintDataset(input: { spec: RunSpec }): Promise<{ sha256: string }> {
      // A feature-view spec is fingerprinted by the training set its join gives now.
      const { file } = await locateDataset(
        deps,
        input.spec,
        `fingerprint-${activityInfo().workflowExecution?.workflowId ?? activityInfo().activityId}`
      );
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      return { sha256: hash.digest('hex') };
    },
  };
}

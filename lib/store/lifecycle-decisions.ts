// `lifecycle_decisions`: every decision a model's lifecycle workflow takes on retraining triggers
// (started, skipped, deferred) with its reason, so "why did this model (not) retrain?" has an
// answer. _id = "<model>:<seq>", seq counted by the workflow across continue-as-new, so a
// retried write is one document; each is also audited once (`audited` marks it).
import type { Collection, Db } from 'mongodb';
import type { RetrainTrigger } from '../workflow-safe/lifecycle';
import { appendAudit } from './audit';
import type { Store } from './db';
import { isDuplicateKey } from './errors';

export const LIFECYCLE_DECISIONS = 'lifecycle_decisions';

export type LifecycleOutcome = 'started' | 'skipped' | 'deferred' | 'finished';

export interface LifecycleDecisionInput {
  model: string;
  seq: number;
  outcome: LifecycleOutcome;
  reason: string;
  triggers: RetrainTrigger[];
  runId?: string;
  datasetSha256?: string;
  /** Workflow time of the decision (ms). */
  at: number;
}

export interface LifecycleDecisionDoc extends Omit<LifecycleDecisionInput, 'at'> {
  _id: string;
  at: Date;
  audited: boolean;
}

export function lifecycleDecisions(db: Db): Collection<LifecycleDecisionDoc> {
  return db.collection<LifecycleDecisionDoc>(LIFECYCLE_DECISIONS);
}

export async function ensureLifecycleDecisionIndexes(db: Db): Promise<void> {
  await lifecycleDecisions(db).createIndex({ model: 1, seq: -1 }, { name: 'model_seq' });
}

/** Writes the decision once and audits it once, however often the caller retries. */
export async function recordLifecycleDecision(
  store: Pick<Store, 'db' | 'keyring'>,
  d: LifecycleDecisionInput
): Promise<void> {
  const c = lifecycleDecisions(store.db);
  const _id = `${d.model}:${d.seq}`;
  try {
    await c.insertOne({ ...d, _id, at: new Date(d.at), audited: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const doc = await c.findOne({ _id });
  if (doc?.audited) return;
  await appendAudit(store, {
    actor: null,
    action: `lifecycle.${d.outcome}`,
    object: { type: 'model', id: d.model },
    details: {
      reason: d.reason,
      triggers: d.triggers.map((t) => t.kind),
      ...(d.runId ? { runId: d.runId } : {}),
      ...(d.datasetSha256 ? { datasetSha256: d.datasetSha256 } : {}),
    },
  });
  await c.updateOne({ _id }, { $set: { audited: true } });
}

/** The newest decisions of a model first. */
export async function listLifecycleDecisions(
  store: Pick<Store, 'db'>,
  model: string,
  limit = 50
): Promise<LifecycleDecisionDoc[]> {
  return lifecycleDecisions(store.db).find({ model }).sort({ seq: -1 }).limit(limit).toArray();
}

// What users read about rollouts (GET /v1/deployments):
//   `deployments`           one document per rollout (_id = deployment id): model, versions,
//                           strategy and its settings, state, current weight, steps, the last gate;
//   `deployment_decisions`  append-only, one per step, gate decision, override and rollback
//                           (_id = "<deployment>:<seq>"), each with who, why and the numbers used.
// Written only by the rollout workflow's activities; decisions are upserts keyed by the
// workflow's sequence number, so a retried activity never records a decision twice.
import type { Collection, Db } from 'mongodb';
import type { GateDecision } from '../deploy/gates';
import type { DeploySpec, DeployStrategy } from '../spec/deploy';
import type { Store } from './db';
import { ferretSafe } from './ferret-safe';
import { pageLimit } from './page-limit';
import type { DeploymentState } from '../workflow-safe/statuses';

export { DEPLOYMENT_STATES, type DeploymentState } from '../workflow-safe/statuses';

export const DEPLOYMENTS = 'deployments';
export const DEPLOYMENT_DECISIONS = 'deployment_decisions';

export interface DeploymentStep {
  index: number;
  weight: number;
  startedAt: Date;
  endedAt: Date | null;
  outcome: 'pass' | 'fail' | 'inconclusive' | 'promoted' | 'aborted' | null;
}

export interface DeploymentDoc {
  _id: string;
  model: string;
  version: number;
  /** The production holder when the rollout began (null for a model's first version). */
  stable: number | null;
  strategy: DeployStrategy;
  config: DeploySpec;
  state: DeploymentState;
  /** Percent of callers the candidate answers now (shadow: 0, it only gets mirrored copies). */
  weight: number;
  steps: DeploymentStep[];
  lastGate: (GateDecision & { at: Date }) | null;
  /** Who asked for it: the run's requester, or the caller of POST /v1/deployments. */
  requestedBy: string;
  runId: string | null;
  workflowId: string;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
}

export type DecisionKind = 'start' | 'step' | 'gate' | 'override' | 'pause' | 'promote' | 'rollback';

export interface DeploymentDecisionDoc {
  _id: string;
  deploymentId: string;
  seq: number;
  at: Date;
  kind: DecisionKind;
  /** e.g. pass / fail / inconclusive for gates, the action for overrides. */
  outcome: string;
  /** Who decided: "rollout" for the workflow's own gates, else the approver's subject. */
  by: string;
  reason: string | null;
  step: number | null;
  weight: number | null;
  metrics?: GateDecision;
}

export function deployments(db: Db): Collection<DeploymentDoc> {
  return db.collection<DeploymentDoc>(DEPLOYMENTS);
}
export function deploymentDecisions(db: Db): Collection<DeploymentDecisionDoc> {
  return db.collection<DeploymentDecisionDoc>(DEPLOYMENT_DECISIONS);
}

export async function ensureDeploymentIndexes(db: Db): Promise<void> {
  await deployments(db).createIndex({ createdAt: -1, _id: 1 }, { name: 'created' });
  await deployments(db).createIndex({ model: 1, createdAt: -1 }, { name: 'model_created' });
  await deploymentDecisions(db).createIndex({ deploymentId: 1, seq: 1 }, { name: 'deployment_seq' });
}

/** Creates the record once; a retry returns the first one. */
export async function createDeployment(
  store: Pick<Store, 'db'>,
  doc: Omit<DeploymentDoc, 'createdAt' | 'updatedAt' | 'endedAt' | 'steps' | 'lastGate' | 'reason' | 'weight'>
): Promise<DeploymentDoc> {
  const now = new Date();
  const { _id, ...rest } = doc;
  await deployments(store.db).updateOne(
    { _id },
    {
      $setOnInsert: {
        ...rest,
        config: ferretSafe(doc.config),
        weight: 0,
        steps: [],
        lastGate: null,
        reason: null,
        createdAt: now,
        updatedAt: now,
        endedAt: null,
      },
    },
    { upsert: true }
  );
  return (await deployments(store.db).findOne({ _id }))!;
}

export type DeploymentPatch = Partial<
  Pick<DeploymentDoc, 'state' | 'weight' | 'steps' | 'lastGate' | 'reason' | 'endedAt'>
>;

export async function updateDeployment(store: Pick<Store, 'db'>, id: string, patch: DeploymentPatch): Promise<void> {
  await deployments(store.db).updateOne({ _id: id }, { $set: { ...ferretSafe(patch), updatedAt: new Date() } });
}

export async function recordDeploymentDecision(
  store: Pick<Store, 'db'>,
  d: Omit<DeploymentDecisionDoc, '_id'>
): Promise<void> {
  const _id = `${d.deploymentId}:${String(d.seq).padStart(6, '0')}`;
  await deploymentDecisions(store.db).updateOne({ _id }, { $setOnInsert: ferretSafe(d) }, { upsert: true });
}

export async function getDeployment(store: Pick<Store, 'db'>, id: string): Promise<DeploymentDoc | null> {
  return deployments(store.db).findOne({ _id: id });
}

export async function listDeployments(
  store: Pick<Store, 'db'>,
  opts: { model?: string; state?: DeploymentState; limit?: number; skip?: number } = {}
): Promise<DeploymentDoc[]> {
  const filter: Record<string, string> = {};
  if (opts.model) filter.model = opts.model;
  if (opts.state) filter.state = opts.state;
  return deployments(store.db)
    .find(filter)
    .sort({ createdAt: -1, _id: 1 })
    .skip(opts.skip ?? 0)
    .limit(pageLimit(opts.limit, 50))
    .toArray();
}

export async function listDeploymentDecisions(
  store: Pick<Store, 'db'>,
  deploymentId: string
): Promise<DeploymentDecisionDoc[]> {
  return deploymentDecisions(store.db).find({ deploymentId }).sort({ seq: 1 }).limit(5_000).toArray();
}

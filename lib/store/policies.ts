// `model_policies`: each model's lifecycle policy (_id = model name), as validated by
// lib/spec/policy.ts. `revision` grows on every write so schedules and the lifecycle workflow can
// tell which policy they applied.
import type { Collection, Db } from 'mongodb';
import type { ModelPolicy } from '../spec/policy';
import type { Store } from './db';

export const MODEL_POLICIES = 'model_policies';

export interface ModelPolicyDoc {
  _id: string;
  policy: ModelPolicy;
  revision: number;
  updatedAt: Date;
  updatedBy: string;
}

export function modelPolicies(db: Db): Collection<ModelPolicyDoc> {
  return db.collection<ModelPolicyDoc>(MODEL_POLICIES);
}

export async function getModelPolicy(store: Pick<Store, 'db'>, model: string): Promise<ModelPolicyDoc | null> {
  return modelPolicies(store.db).findOne({ _id: model });
}

/** Replaces the policy (single-document upsert, atomic on FerretDB and MongoDB alike). */
export async function putModelPolicy(
  store: Pick<Store, 'db'>,
  model: string,
  policy: ModelPolicy,
  updatedBy: string
): Promise<ModelPolicyDoc> {
  const doc = await modelPolicies(store.db).findOneAndUpdate(
    { _id: model },
    { $set: { policy, updatedAt: new Date(), updatedBy }, $inc: { revision: 1 } },
    { upsert: true, returnDocument: 'after' }
  );
  return doc!;
}

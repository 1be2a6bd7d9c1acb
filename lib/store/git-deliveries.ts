// `git_deliveries`: every accepted webhook delivery id (_id), so a replayed delivery is refused
// by the unique _id however many API replicas receive it. An id whose triggers could not be sent
// is forgotten again, so the sender's redelivery (the same id) is accepted.
import type { Store } from './db';
import { isDuplicateKey } from './errors';

export interface GitDeliveryDoc {
  _id: string;
  repository: string;
  receivedAt: Date;
}

/** Records the delivery; false when it was recorded before (a replay). */
export async function recordGitDelivery(store: Pick<Store, 'db'>, id: string, repository: string): Promise<boolean> {
  try {
    await store.db
      .collection<GitDeliveryDoc>('git_deliveries')
      .insertOne({ _id: id, repository, receivedAt: new Date() });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Forgets a delivery whose triggers were not sent, so its redelivery counts as new. */
export async function forgetGitDelivery(store: Pick<Store, 'db'>, id: string): Promise<void> {
  await store.db.collection<GitDeliveryDoc>('git_deliveries').deleteOne({ _id: id });
}

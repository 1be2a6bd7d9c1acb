// Writing a model's traffic split (lib/store/deployments.ts) and seeing the inference servers
// apply it. Every change bumps `revision` by exactly one through a compare-and-set on the
// document; `change` names the rollout step that wrote it, so a retried activity finds its own
// write and does not bump the revision twice (servers apply only higher revisions).
import type { Collection } from 'mongodb';
import type { Store } from '../store/db';
import { isDuplicateKey } from '../store/errors';
import { instanceModel, liveServingInstances, trafficSplits, type TrafficSplitDoc } from '../store/deployments';

export interface SplitChange {
  model: string;
  stable: number;
  candidate: number | null;
  candidateWeight: number;
  mode: TrafficSplitDoc['mode'];
  deploymentId: string | null;
  /** Unique per write of one rollout ("<deployment>:<seq>"): a retry of the same write is a no-op. */
  change: string;
}

type SplitDocWithChange = TrafficSplitDoc & { change?: string };

/** Writes the split and returns its revision (the one it already had if this change was written). */
export async function writeSplit(store: Pick<Store, 'db'>, c: SplitChange): Promise<number> {
  const col = trafficSplits(store.db) as unknown as Collection<SplitDocWithChange>;
  for (let tries = 0; tries < 20; tries++) {
    const current = await col.findOne({ _id: c.model });
    if (current?.change === c.change) return current.revision;
    const next: SplitDocWithChange = {
      _id: c.model,
      stable: c.stable,
      candidate: c.candidate,
      candidateWeight: c.candidate === null ? 0 : c.candidateWeight,
      mode: c.mode,
      revision: (current?.revision ?? 0) + 1,
      deploymentId: c.deploymentId,
      updatedAt: new Date(),
      change: c.change,
    };
    if (!current) {
      try {
        await col.insertOne(next);
        return next.revision;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        continue;
      }
    }
    const { _id, ...fields } = next;
    const res = await col.updateOne({ _id, revision: current.revision }, { $set: fields });
    if (res.modifiedCount === 1) return next.revision;
  }
  throw new Error(`the traffic split of '${c.model}' kept changing under this write; retrying`);
}

export async function readSplit(store: Pick<Store, 'db'>, model: string): Promise<TrafficSplitDoc | null> {
  return trafficSplits(store.db).findOne({ _id: model });
}

export interface ServersState {
  /** Servers whose heartbeat is recent enough to count as live. */
  live: string[];
  /** Live servers that have not yet loaded the version or applied the revision. */
  behind: string[];
}

/**
 * Which live servers have loaded `version` (when given) and applied split `revision`. No live
 * server at all is not "ready" (the rollout must not move on silence); `behind` then says so.
 */
export async function serversState(
  store: Pick<Store, 'db'>,
  q: { model: string; version: number | null; revision: number }
): Promise<ServersState> {
  const docs = await liveServingInstances(store.db);
  const behind = docs.filter((d) => {
    const m = instanceModel(d, q.model);
    if (!m || m.splitRevision < q.revision) return true;
    return q.version !== null && !m.loaded.includes(q.version);
  });
  return {
    live: docs.map((d) => d._id),
    behind: docs.length === 0 ? ['(no live inference server)'] : behind.map((d) => d._id),
  };
}

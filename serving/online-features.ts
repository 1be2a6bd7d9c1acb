// Online features at inference: a model trained from feature views (its lineage names each view
// and version) may be sent the entity key columns instead of the features. This module fills
// the features in from the online store (`features_online`, read by _id), replaces the key
// inputs with them, and says which event time each row's values had (null: no value, or one
// older than the view's TTL, which is sent as missing, as training saw it).
//
// Staleness: online documents are cached for `cacheMs` (default 1 s), so a value read here is
// at most cacheMs older than what the store holds; the store itself is as fresh as the last
// materialization (GET /v1/features/{view} shows `freshness`). View definitions never change
// once stored (a change is a new version), so they are cached without expiry.
import type { Store } from '../lib/store/db';
import { entityKey } from '../lib/features/compute';
import type { Cell } from '../lib/features/csv-records';
import { getFeatureView, type FeatureViewDoc } from '../lib/store/feature-views';
import { onlineId, readOnline, type OnlineFeatureDoc } from '../lib/store/features-online';
import type { LoadedModel } from './loaded-model';
import { ProtocolError, type InferRequest } from './protocol';

export const ONLINE_CACHE_MS = 1_000;
const MAX_CACHED = 100_000;

export interface OnlineFill {
  request: InferRequest;
  /** Per view ("name@vN"): each row's feature event time (ISO), or null. */
  timestamps: Record<string, (string | null)[]>;
}

export class OnlineFeatures {
  private readonly views = new Map<string, FeatureViewDoc>();
  private readonly docs = new Map<string, { doc: OnlineFeatureDoc | null; at: number }>();

  constructor(
    private readonly store: Pick<Store, 'db'>,
    private readonly opts: { cacheMs?: number; now?: () => number } = {}
  ) {}

  private async view(name: string, version: number): Promise<FeatureViewDoc> {
    const id = `${name}@v${version}`;
    let doc = this.views.get(id);
    if (!doc) {
      const found = await getFeatureView(this.store, { name, version });
      if (!found)
        throw new ProtocolError(503, `feature view ${id}, which the model was trained on, is not in the store`);
      this.views.set(id, (doc = found));
    }
    return doc;
  }

  private async read(ids: string[], now: number): Promise<Map<string, OnlineFeatureDoc | null>> {
    const ttl = this.opts.cacheMs ?? ONLINE_CACHE_MS;
    const out = new Map<string, OnlineFeatureDoc | null>();
    const misses: string[] = [];
    for (const id of ids) {
      const hit = this.docs.get(id);
      if (hit && now - hit.at <= ttl) out.set(id, hit.doc);
      else misses.push(id);
    }
    if (misses.length > 0) {
      const found = await readOnline(this.store, [...new Set(misses)]);
      if (this.docs.size + misses.length > MAX_CACHED) this.docs.clear();
      for (const id of misses) {
        const doc = found.get(id) ?? null;
        out.set(id, doc);
        this.docs.set(id, { doc, at: now });
      }
    }
    return out;
  }

  /** The request with online features filled in, or null when it carries its features itself. */
  async fill(model: LoadedModel, request: InferRequest): Promise<OnlineFill | null> {
    const lineage = model.served.version.lineage.featureViews ?? [];
    if (lineage.length === 0) return null;
    const byName = new Map(request.inputs.map((i) => [i.name, i]));
    const now = (this.opts.now ?? Date.now)();
    const wanted = new Set([...model.schema.numeric, ...model.schema.categorical]);
    const added: InferRequest['inputs'] = [];
    const used = new Set<string>();
    const timestamps: OnlineFill['timestamps'] = {};
    for (const l of lineage) {
      const doc = await this.view(l.view, l.version);
      const names = doc.view.features.map((f) => f.name).filter((n) => wanted.has(n));
      if (names.every((n) => byName.has(n))) continue; // the caller sent the features
      const keys = doc.entity.keys.map((k) => byName.get(k));
      if (keys.some((k) => k === undefined))
        throw new ProtocolError(
          400,
          `send the features ${names.map((n) => `'${n}'`).join(', ')} or the entity key input(s) ${doc.entity.keys.map((k) => `'${k}'`).join(', ')} of view ${l.view}@v${l.version}`
        );
      doc.entity.keys.forEach((k) => used.add(k));
      const rows = keys[0]!.data.length;
      const ids = Array.from({ length: rows }, (_, i) => {
        const key = entityKey(keys.map((k) => (k!.data[i] === null ? undefined : String(k!.data[i]))));
        return key === undefined ? '' : onlineId(l.view, l.version, key);
      });
      const found = await this.read(
        ids.filter((id) => id !== ''),
        now
      );
      const live = ids.map((id) => {
        const d = id ? found.get(id) : null;
        return d && now - d.t.getTime() <= doc.view.ttl ? d : null;
      });
      timestamps[`${l.view}@v${l.version}`] = live.map((d) => (d ? d.t.toISOString() : null));
      for (const n of names) {
        const numeric = model.schema.numeric.includes(n);
        const data = live.map((d): Cell => {
          const v = d?.values[n] ?? null;
          return v === null ? null : numeric ? (typeof v === 'number' ? v : null) : String(v);
        });
        added.push({ name: n, shape: [rows], datatype: numeric ? 'FP64' : 'BYTES', data });
      }
    }
    if (added.length === 0) return null;
    const kept = request.inputs.filter((i) => !(used.has(i.name) && !wanted.has(i.name)));
    return { request: { ...request, inputs: [...kept, ...added] }, timestamps };
  }
}

// Which model version answers. A model name without a version follows its `production` alias and
// its traffic split (`traffic_splits`, lib/store/deployments.ts): both are re-read every pollMs
// (FerretDB has no change streams), and read before a model's first answer, so a restarted server
// answers with the current split at once. Every version a route names is loaded and verified
// (lib/store/served-model.ts) before the route that names it is swapped in with one assignment;
// a split is taken only when its revision is higher than the held one (a stale read cannot undo a
// rollback), and a candidate that is not loaded (yet, or ever: refused) gets no traffic: stable
// answers its share. Replaced versions drain before their sessions close. After every poll the
// server writes its presence (`serving_instances`: versions loaded, split revision held) so the
// rollout knows every server is ready before it moves traffic. A pinned version (/versions/{v})
// is loaded on first use and kept in a small LRU. Each served name's id column (its policy's
// monitor.idColumn, serving/row-ids.ts) is read with its first load and re-read on every poll, so
// a request never waits for it.
import type { Logger } from '../lib/telemetry/logger';
import type { Store } from '../lib/store/db';
import {
  fieldKey,
  servingInstances,
  splitBucket,
  trafficSplits,
  type InstanceModel,
  type TrafficSplitDoc,
} from '../lib/store/deployments';
import { getModel, ModelSignatureError } from '../lib/store/models';
import { getModelPolicy } from '../lib/store/policies';
import { loadServedModel, ServedModelNotFoundError, type ModelRef } from '../lib/store/served-model';
import { LoadedModel, type LoadOptions } from './loaded-model';
import { ProtocolError } from './protocol';

export const SERVED_ALIAS = 'production';
/** Pinned versions kept open at once. */
const PINNED_MAX = 8;
/** A failed load is not retried for this long (requests get the same answer meanwhile). */
const FAILURE_CACHE_MS = 1_000;
/** A version the poller could not load (refused, unreadable) is retried after this long, not every poll. */
const POLL_RETRY_MS = 5_000;
/** Model names tracked at most (beyond it, failed names are forgotten at once). */
const SLOTS_MAX = 1_000;

interface Slot {
  current?: LoadedModel;
  loading?: Promise<LoadedModel>;
  failure?: { error: ProtocolError; until: number };
}

/** What answers requests for a model name; replaced whole, never changed in place. */
interface Route {
  /** The production alias holder: answers everything unless the held split has a candidate. */
  production: LoadedModel;
  /** The split held (highest revision read), or null. */
  split: TrafficSplitDoc | null;
  /** The split's stable version, loaded (null: not loadable, production answers instead). */
  stable: LoadedModel | null;
  /** The split's candidate, loaded and verified; null until then, and stable answers its share. */
  candidate: LoadedModel | null;
}

interface RouteSlot {
  route?: Route;
  loading?: Promise<Route>;
  failure?: { error: ProtocolError; until: number };
}

/** The version chosen for one request (acquired: release() each), and a shadow copy's target. */
export interface Picked {
  model: LoadedModel;
  /** Shadow mode: the candidate that gets a mirrored copy (acquired), else null. */
  shadow: LoadedModel | null;
}

export class ServedModels {
  private readonly aliases = new Map<string, RouteSlot>();
  private readonly pinned = new Map<string, Slot>();
  private readonly retryAt = new Map<string, number>();
  /** Id column per loaded model name (null: none); only names that loaded, so guesses add nothing. */
  private readonly idColumns = new Map<string, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<Store, 'db' | 'keyring'>,
    private readonly opts: LoadOptions & { pollMs: number; log: Logger; serverId: string }
  ) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /**
   * The version that answers this caller of `name` (split by the caller key's bucket), counted
   * in as in flight in the same step, so a concurrent swap cannot close it under the caller.
   */
  async pick(name: string, callerKey: string, mirror: boolean): Promise<Picked> {
    const route = await this.route(name);
    const split = route.split;
    if (!split || split.candidate === null || !route.stable) return { model: route.production.acquire(), shadow: null };
    if (split.mode === 'shadow') {
      return { model: route.stable.acquire(), shadow: mirror ? (route.candidate?.acquire() ?? null) : null };
    }
    const toCandidate =
      route.candidate && split.candidateWeight > 0 && splitBucket(name, callerKey) < split.candidateWeight;
    return { model: (toCandidate ? route.candidate! : route.stable).acquire(), shadow: null };
  }

  /** The id column of a model that answered before (its policy as of the last poll), else null. */
  idColumnOf(name: string): string | null {
    return this.idColumns.get(name) ?? null;
  }

  private async readIdColumn(name: string): Promise<string | null> {
    return (await getModelPolicy(this.store, name))?.policy.monitor?.idColumn ?? null;
  }

  private setIdColumn(name: string, idColumn: string | null): void {
    const had = this.idColumns.get(name);
    this.idColumns.set(name, idColumn);
    if (had !== undefined && had !== idColumn) this.opts.log.info('id column applied', { model: name, idColumn });
  }

  private async route(name: string): Promise<Route> {
    let slot = this.aliases.get(name);
    if (!slot) {
      slot = {};
      this.aliases.set(name, slot);
    }
    if (slot.route) return slot.route;
    if (slot.failure && slot.failure.until > Date.now()) throw slot.failure.error;
    slot.loading ??= this.firstRoute(name).finally(() => (slot!.loading = undefined));
    try {
      const route = await slot.loading;
      slot.route ??= route;
      slot.failure = undefined;
      this.published(name, slot.route);
      return slot.route;
    } catch (err) {
      const error = toProtocolError(name, err);
      slot.failure = { error, until: Date.now() + FAILURE_CACHE_MS };
      // Names that never loaded are remembered only while few, so guesses cannot fill memory.
      if (!slot.route && this.aliases.size > SLOTS_MAX) this.aliases.delete(name);
      throw error;
    }
  }

  /** A pinned version, acquired (pair with release()). */
  async acquire(name: string, version: number): Promise<LoadedModel> {
    const key = `${name}:${version}`;
    let slot = this.pinned.get(key);
    if (!slot) {
      slot = {};
      this.pinned.set(key, slot);
      if (this.pinned.size > PINNED_MAX) this.evictOldestPinned();
    }
    if (slot.current) return slot.current.acquire();
    if (slot.failure && slot.failure.until > Date.now()) throw slot.failure.error;
    slot.loading ??= this.loadPinned(name, version).finally(() => (slot!.loading = undefined));
    try {
      const loaded = await slot.loading;
      slot.current ??= loaded;
      slot.failure = undefined;
    } catch (err) {
      const error = toProtocolError(name, err);
      slot.failure = { error, until: Date.now() + FAILURE_CACHE_MS };
      if (!slot.current && this.pinned.size > SLOTS_MAX) this.pinned.delete(key);
      throw error;
    }
    return slot.current.acquire();
  }

  /** A pinned version, with its name's id column read first (a failed read loads nothing). */
  private async loadPinned(name: string, version: number): Promise<LoadedModel> {
    const idColumn = this.idColumns.has(name) ? undefined : await this.readIdColumn(name);
    const model = await this.load(name, { version });
    if (idColumn !== undefined) this.setIdColumn(name, idColumn);
    return model;
  }

  private evictOldestPinned(): void {
    const [key, slot] = this.pinned.entries().next().value as [string, Slot];
    this.pinned.delete(key);
    void slot.current?.retire();
  }

  private async load(name: string, ref: ModelRef): Promise<LoadedModel> {
    const started = process.hrtime.bigint();
    try {
      const served = await loadServedModel(this.store, name, ref);
      const model = await LoadedModel.open(served, this.opts);
      this.opts.metrics.loadSeconds.observe({ model: name }, Number(process.hrtime.bigint() - started) / 1e9);
      this.opts.log.info('model loaded', { model: name, version: model.version, artifact: served.artifact.sha256 });
      if (model.fault)
        this.opts.log.warn('FAULT INJECTED into this version', { model: name, version: model.version, ...model.fault });
      return model;
    } catch (err) {
      const reason =
        err instanceof ModelSignatureError
          ? 'signature'
          : err instanceof ServedModelNotFoundError
            ? 'not_found'
            : 'store';
      this.opts.metrics.loadFailures.inc({ model: name, reason });
      if (reason !== 'not_found') {
        this.opts.log.error('model not loaded', { model: name, ...ref, reason, error: (err as Error).message });
      }
      throw err;
    }
  }

  /** The first route of a model: its production holder and its split, both read before it answers. */
  private async firstRoute(name: string): Promise<Route> {
    const [production, split, idColumn] = await Promise.all([
      this.load(name, { alias: SERVED_ALIAS }),
      trafficSplits(this.store.db).findOne({ _id: name }),
      this.readIdColumn(name),
    ]);
    this.setIdColumn(name, idColumn);
    return this.nextRoute(name, { production, split: null, stable: null, candidate: null }, production.version, split);
  }

  /**
   * The route after `prev` for this production version and split document: the split only if its
   * revision is higher than the held one, every version it names loaded (reusing open ones) or,
   * when a version cannot load, left out so that the previous holder or stable answers.
   */
  private async nextRoute(
    name: string,
    prev: Route,
    productionVersion: number | undefined,
    doc: TrafficSplitDoc | null
  ): Promise<Route> {
    const open = [prev.production, prev.stable, prev.candidate].filter((m): m is LoadedModel => m !== null);
    const get = async (version: number): Promise<LoadedModel | null> => {
      const have = open.find((m) => m.version === version);
      if (have) return have;
      const key = `${name}:${version}`;
      if ((this.retryAt.get(key) ?? 0) > Date.now()) return null;
      try {
        const model = await this.load(name, { version });
        this.retryAt.delete(key);
        open.push(model);
        return model;
      } catch {
        this.retryAt.set(key, Date.now() + POLL_RETRY_MS);
        return null; // refused or unreadable: it gets no traffic, retried later
      }
    };
    const held = prev.split?.revision ?? 0;
    // No document at all: the split was removed, production answers.
    const split = doc === null ? null : doc.revision > held ? doc : prev.split;
    const production =
      productionVersion === undefined ? prev.production : ((await get(productionVersion)) ?? prev.production);
    const active = split && split.candidate !== null;
    return {
      production,
      split,
      stable: active ? await get(split.stable) : null,
      candidate: active ? await get(split.candidate!) : null,
    };
  }

  /** Re-reads aliases and splits of every followed model (and of models with a split); swaps routes. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    let splits: Map<string, TrafficSplitDoc>;
    try {
      splits = new Map((await trafficSplits(this.store.db).find({}).toArray()).map((d) => [d._id, d]));
    } catch {
      return; // store unreachable: keep serving what is loaded, no heartbeat
    }
    // A split with a candidate is followed even before the model's first request, so that this
    // server loads the candidate and reports it ready.
    for (const [name, doc] of splits) {
      if (doc.candidate !== null && !this.aliases.get(name)?.route) await this.route(name).catch(() => undefined);
    }
    for (const [name, slot] of this.aliases) {
      const prev = slot.route;
      if (!prev) continue;
      let version: number | undefined;
      try {
        version = (await getModel(this.store, name))?.aliases?.[SERVED_ALIAS]?.version;
      } catch {
        return; // store unreachable: keep serving what is loaded
      }
      const doc = splits.get(name) ?? null;
      const next = await this.nextRoute(name, prev, version, doc);
      if (sameRoute(prev, next)) continue;
      slot.route = next;
      this.published(name, next, prev);
      for (const m of new Set([prev.production, prev.stable, prev.candidate])) {
        if (m && m !== next.production && m !== next.stable && m !== next.candidate) void m.retire();
      }
    }
    for (const name of this.idColumns.keys()) {
      try {
        this.setIdColumn(name, await this.readIdColumn(name));
      } catch {
        return; // store unreachable: keep the id columns held
      }
    }
    await this.writePresence();
  }

  /** Metrics and logs of a route just swapped in. */
  private published(name: string, next: Route, prev?: Route): void {
    const { metrics, log } = this.opts;
    metrics.serving.set({ model: name }, next.production.version);
    metrics.splitRevision.set({ model: name }, next.split?.revision ?? 0);
    const weight = next.candidate && next.split?.mode === 'split' ? next.split.candidateWeight : 0;
    metrics.splitWeight.set({ model: name }, weight);
    if (!prev) return;
    if (next.production !== prev.production) {
      log.info('alias moved: now serving', {
        model: name,
        version: next.production.version,
        previous: prev.production.version,
      });
    }
    if (next.split !== prev.split || next.candidate !== prev.candidate) {
      log.info('traffic split applied', {
        model: name,
        revision: next.split?.revision ?? 0,
        stable: next.stable?.version ?? null,
        candidate: next.split?.candidate ?? null,
        candidateLoaded: next.candidate !== null,
        mode: next.split?.mode ?? null,
        candidateWeight: weight,
      });
    }
  }

  /** What this server holds, per followed model (the presence document's `models`). */
  presence(): Record<string, InstanceModel> {
    const models: Record<string, InstanceModel> = {};
    for (const [name, slot] of this.aliases) {
      const r = slot.route;
      if (!r) continue;
      const loaded = [...new Set([r.production, r.stable, r.candidate].flatMap((m) => (m ? [m.version] : [])))];
      models[fieldKey(name)] = { loaded: loaded.sort((a, b) => a - b), splitRevision: r.split?.revision ?? 0 };
    }
    return models;
  }

  private async writePresence(): Promise<void> {
    await servingInstances(this.store.db)
      .replaceOne(
        { _id: this.opts.serverId },
        { at: new Date(), pollMs: this.opts.pollMs, models: this.presence() },
        { upsert: true }
      )
      .catch((err: Error) => this.opts.log.warn('serving_instances heartbeat not written', { error: err.message }));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    // Gone cleanly: a rollout must not wait for this server.
    await servingInstances(this.store.db)
      .deleteOne({ _id: this.opts.serverId })
      .catch(() => undefined);
    const all = new Set([
      ...[...this.aliases.values()].flatMap((s) =>
        s.route ? [s.route.production, s.route.stable, s.route.candidate] : []
      ),
      ...[...this.pinned.values()].map((s) => s.current),
    ]);
    await Promise.all([...all].flatMap((m) => (m ? [m.retire()] : [])));
  }
}

function sameRoute(a: Route, b: Route): boolean {
  return a.production === b.production && a.split === b.split && a.stable === b.stable && a.candidate === b.candidate;
}

function toProtocolError(name: string, err: unknown): ProtocolError {
  if (err instanceof ServedModelNotFoundError) return new ProtocolError(404, err.message);
  if (err instanceof ModelSignatureError) return new ProtocolError(503, err.message);
  return new ProtocolError(503, `model '${name}' cannot be loaded now (${(err as Error).message}); retry shortly`);
}

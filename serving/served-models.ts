// Which model version answers. A model name without a version follows its `production` alias:
// the alias is re-read every pollMs (FerretDB has no change streams), a new holder is loaded and
// verified (lib/store/served-model.ts) before the swap, the swap is one assignment, and the old
// version drains before its session closes. A version that fails verification is never served:
// the last good version keeps answering and the refusal is logged and counted. A pinned version
// (/versions/{v}) is loaded on first use and kept in a small LRU.
import type { Logger } from '../lib/telemetry/logger';
import type { Store } from '../lib/store/db';
import { getModel, ModelSignatureError } from '../lib/store/models';
import { loadServedModel, ServedModelNotFoundError, type ModelRef } from '../lib/store/served-model';
import { LoadedModel, type LoadOptions } from './loaded-model';
import { ProtocolError } from './protocol';

export const SERVED_ALIAS = 'production';
/** Pinned versions kept open at once. */
const PINNED_MAX = 8;
/** A failed load is not retried for this long (requests get the same answer meanwhile). */
const FAILURE_CACHE_MS = 1_000;
/** Model names tracked at most (beyond it, failed names are forgotten at once). */
const SLOTS_MAX = 1_000;

interface Slot {
  current?: LoadedModel;
  loading?: Promise<LoadedModel>;
  failure?: { error: ProtocolError; until: number };
}

export class ServedModels {
  private readonly aliases = new Map<string, Slot>();
  private readonly pinned = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly store: Pick<Store, 'db' | 'keyring'>,
    private readonly opts: LoadOptions & { pollMs: number; log: Logger }
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /**
   * The model that answers for `name` (its production alias, or the pinned version), counted in
   * as in flight in the same step, so a concurrent swap cannot close it under the caller.
   */
  async acquire(name: string, version?: number): Promise<LoadedModel> {
    const table = version === undefined ? this.aliases : this.pinned;
    const key = version === undefined ? name : `${name}:${version}`;
    let slot = table.get(key);
    if (!slot) {
      slot = {};
      table.set(key, slot);
      if (table === this.pinned && table.size > PINNED_MAX) this.evictOldestPinned();
    }
    if (slot.current) return slot.current.acquire();
    if (slot.failure && slot.failure.until > Date.now()) throw slot.failure.error;
    const ref: ModelRef = version === undefined ? { alias: SERVED_ALIAS } : { version };
    slot.loading ??= this.load(name, ref).finally(() => (slot!.loading = undefined));
    try {
      const loaded = await slot.loading;
      slot.current ??= loaded;
      slot.failure = undefined;
      if (version === undefined) this.opts.metrics.serving.set({ model: name }, slot.current.version);
    } catch (err) {
      const error = toProtocolError(name, err);
      slot.failure = { error, until: Date.now() + FAILURE_CACHE_MS };
      // Names that never loaded are remembered only while few, so guesses cannot fill memory.
      if (!slot.current && table.size > SLOTS_MAX) table.delete(key);
      throw error;
    }
    return slot.current.acquire();
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

  /** Re-reads each followed alias; loads, verifies and swaps in a new holder. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [name, slot] of this.aliases) {
        if (!slot.current) continue;
        let version: number | undefined;
        try {
          version = (await getModel(this.store, name))?.aliases?.[SERVED_ALIAS]?.version;
        } catch {
          return; // store unreachable: keep serving what is loaded
        }
        if (version === undefined || version === slot.current.version) continue;
        let next: LoadedModel;
        try {
          next = await this.load(name, { version });
        } catch {
          continue; // refused or unreadable: the verified version keeps answering
        }
        const old = slot.current;
        slot.current = next;
        this.opts.metrics.serving.set({ model: name }, next.version);
        this.opts.log.info('alias moved: now serving', { model: name, version: next.version, previous: old.version });
        void old.retire();
      }
    } finally {
      this.polling = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const all = [...this.aliases.values(), ...this.pinned.values()].flatMap((s) => (s.current ? [s.current] : []));
    await Promise.all(all.map((m) => m.retire()));
  }
}

function toProtocolError(name: string, err: unknown): ProtocolError {
  if (err instanceof ServedModelNotFoundError) return new ProtocolError(404, err.message);
  if (err instanceof ModelSignatureError) return new ProtocolError(503, err.message);
  return new ProtocolError(503, `model '${name}' cannot be loaded now (${(err as Error).message}); retry shortly`);
}

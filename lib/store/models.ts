// The model registry.
//   `models`          one document per model name (_id = name): latest version and aliases,
//                     e.g. aliases.production = { version, runId, since, by, previous }.
//   `model_versions`  one document per version (_id = "<name>:<version>"), with a unique index on
//                     runId: a run gets exactly one version, however often registration retries.
//   `alias_moves`     append-only history of alias moves (for rollback and audit).
// Version numbers are allocated as max+1 with the unique _id as the arbiter, so two runs
// registering the same name at once get different numbers and a retry gets its first number back.
// Alias moves are a compare-and-set on the single `models` document, which MongoDB (and FerretDB)
// update atomically: the alias never points at two versions, and the previous holder is kept.
import type { Collection, Db } from 'mongodb';
import { sign, verify, type Signature } from '../crypto/signing';
import type { ArtifactRef } from './artifacts';
import type { Store } from './db';
import { ferretSafe } from './ferret-safe';
import { isDuplicateKey } from './errors';
import { pageLimit } from './page-limit';

export const MODELS = 'models';
export const MODEL_VERSIONS = 'model_versions';
export const ALIAS_MOVES = 'alias_moves';

export const ALIAS_RE = /^[a-z][a-z0-9_-]{0,31}$/;

import type { VersionStatus } from '../workflow-safe/statuses';
import { markErrorClass } from '../workflow-safe/typed-error';
import type { Task } from '../ml/types';

export type { VersionStatus };

export interface AliasHolder {
  version: number;
  runId: string;
  since: Date;
  by: string;
  previous: { version: number; runId: string; since: Date } | null;
}

export interface ModelDoc {
  _id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
  latestVersion: number;
  aliases: Record<string, AliasHolder>;
}

/** A feature view a training set was joined from (lineage of runs and models). */
export interface FeatureViewLineage {
  view: string;
  version: number;
  hash: string;
  /** The view's source file, and its newest materialization of this version when the join ran. */
  source: string;
  materialization: { id: string; end: string } | null;
  /** Label rows that got values, whose values were past the TTL (null), that had none (null). */
  matched: number;
  expired: number;
  missing: number;
}

export interface ModelLineage {
  datasetSha256: string;
  datasetSource: string;
  datasetRows: number;
  spec: unknown;
  codeVersion: string;
  /** The run that produced the version. */
  parentRun: string;
  trainer: Record<string, unknown>;
  /** Present when the training set came from feature views (docs/features.md). */
  featureViews?: FeatureViewLineage[];
  features: { name: string; type: string }[];
  target: string;
  task: Task;
  /** sha256 of each artifact by role. */
  artifacts: Record<string, string>;
  /** Digests of the training rows (lib/ml/dataset/row-hashes.ts): a later gate scores this version only on other rows. */
  trainRows?: { hashes: ArtifactRef; rows: number; columns: string[] };
}

export interface ModelVersionDoc {
  _id: string;
  name: string;
  version: number;
  runId: string;
  status: VersionStatus;
  aliases: string[];
  createdAt: Date;
  updatedAt: Date;
  metrics: Record<string, unknown>;
  /** Artifacts by role: onnx (float), model (trainer format), onnx_int8 (optimised), serving (what production runs). */
  artifacts: Record<string, ArtifactRef>;
  lineage: ModelLineage;
  approval?: { decision: string; approver: string; comment?: string; at: Date } | null;
  optimisation?: Record<string, unknown>;
  /** Over signedContent(): every artifact digest and the lineage (absent for stores without keys). */
  signature?: Signature;
}

/** What a version's signature covers: its identity, every artifact digest and the lineage. */
export function signedContent(v: Pick<ModelVersionDoc, 'name' | 'version' | 'runId' | 'artifacts' | 'lineage'>) {
  const digests = Object.fromEntries(Object.entries(v.artifacts).map(([role, ref]) => [role, ref.sha256]));
  return { name: v.name, version: v.version, runId: v.runId, artifacts: digests, lineage: v.lineage };
}

export class ModelSignatureError extends Error {
  constructor(v: Pick<ModelVersionDoc, 'name' | 'version'>) {
    super(
      `model '${v.name}' v${v.version} failed signature verification: its artifacts or lineage changed after ` +
        `registration (or it was signed with a key no longer in MLOPS_ENCRYPTION_KEYS). It is not loaded; check ` +
        `GET /v1/audit, then restore it or move the alias to a trusted version.`
    );
  }
}
markErrorClass(ModelSignatureError, 'ModelSignatureError');

/** Throws ModelSignatureError unless the version carries a valid signature. */
export function verifyModelVersion(store: Pick<Store, 'keyring'>, v: ModelVersionDoc): void {
  if (!store.keyring || !verify(store.keyring, signedContent(v), v.signature)) throw new ModelSignatureError(v);
}

export interface AliasMove {
  _id: string;
  name: string;
  alias: string;
  /** The new holder; 0 when the alias was removed (removeAlias). */
  version: number;
  previous: number | null;
  runId: string;
  by: string;
  reason?: string;
  at: Date;
}

export function models(db: Db): Collection<ModelDoc> {
  return db.collection<ModelDoc>(MODELS);
}
export function modelVersions(db: Db): Collection<ModelVersionDoc> {
  return db.collection<ModelVersionDoc>(MODEL_VERSIONS);
}
export function aliasMoves(db: Db): Collection<AliasMove> {
  return db.collection<AliasMove>(ALIAS_MOVES);
}

export async function ensureModelIndexes(db: Db): Promise<void> {
  await modelVersions(db).createIndex({ runId: 1 }, { name: 'run_unique', unique: true });
  await modelVersions(db).createIndex({ name: 1, version: -1 }, { name: 'name_version' });
  await models(db).createIndex({ updatedAt: -1, _id: 1 }, { name: 'updated' });
  await aliasMoves(db).createIndex({ name: 1, at: -1 }, { name: 'name_at' });
}

export interface RegisterInput {
  name: string;
  runId: string;
  metrics: Record<string, unknown>;
  artifacts: Record<string, ArtifactRef>;
  lineage: ModelLineage;
}

/**
 * Registers the run's model version, or returns the one it already has (idempotent per runId).
 * `created` is false when the version already existed (a retried registration).
 */
export async function registerModelVersion(
  store: Pick<Store, 'db' | 'keyring'>,
  input: RegisterInput
): Promise<{ version: ModelVersionDoc; created: boolean }> {
  const versions = modelVersions(store.db);
  const existing = await versions.findOne({ runId: input.runId });
  if (existing) return { version: existing, created: false };
  const now = new Date();
  const upsertModel = () =>
    models(store.db).updateOne(
      { _id: input.name },
      { $setOnInsert: { name: input.name, createdAt: now, latestVersion: 0, aliases: {} }, $set: { updatedAt: now } },
      { upsert: true }
    );
  // Two first registrations of a name race on the upsert's insert: the loser's retry updates.
  await upsertModel().catch((err) => (isDuplicateKey(err) ? upsertModel() : Promise.reject(err)));
  for (let tries = 0; tries < 20; tries++) {
    const last = await versions.find({ name: input.name }).sort({ version: -1 }).limit(1).next();
    const version = (last?.version ?? 0) + 1;
    const doc: ModelVersionDoc = {
      _id: `${input.name}:${version}`,
      name: input.name,
      version,
      runId: input.runId,
      status: 'candidate',
      aliases: [],
      createdAt: now,
      updatedAt: now,
      metrics: input.metrics,
      artifacts: input.artifacts,
      lineage: { ...input.lineage, spec: ferretSafe(input.lineage.spec) },
    };
    if (store.keyring) doc.signature = sign(store.keyring, signedContent(doc));
    try {
      await versions.insertOne(doc);
      await models(store.db).updateOne(
        { _id: input.name, latestVersion: { $lt: version } },
        { $set: { latestVersion: version } }
      );
      return { version: doc, created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const mine = await versions.findOne({ runId: input.runId });
      if (mine) return { version: mine, created: false };
      // Another run took this number: try the next one.
    }
  }
  throw new Error(`could not allocate a version number for model '${input.name}' after 20 tries (heavy contention)`);
}

export async function updateModelVersion(
  store: Pick<Store, 'db'>,
  name: string,
  version: number,
  patch: Partial<Pick<ModelVersionDoc, 'status' | 'approval' | 'optimisation' | 'artifacts' | 'metrics'>>
): Promise<void> {
  await modelVersions(store.db).updateOne({ _id: `${name}:${version}` }, { $set: { ...patch, updatedAt: new Date() } });
}

/** Adds artifacts by role without touching the others. */
export async function addVersionArtifacts(
  store: Pick<Store, 'db' | 'keyring'>,
  name: string,
  version: number,
  artifacts: Record<string, ArtifactRef>
): Promise<void> {
  const id = `${name}:${version}`;
  const current = await modelVersions(store.db).findOne({ _id: id });
  if (!current) throw new Error(`model '${name}' v${version} is not registered`);
  // The signature covers every artifact, so a new one means a new signature.
  const next = { ...current, artifacts: { ...current.artifacts, ...artifacts } };
  const set: Record<string, unknown> = { updatedAt: new Date() };
  for (const [role, ref] of Object.entries(artifacts)) set[`artifacts.${role}`] = ref;
  if (store.keyring) set.signature = sign(store.keyring, signedContent(next));
  await modelVersions(store.db).updateOne({ _id: id }, { $set: set });
}

export interface MoveAliasInput {
  name: string;
  alias: string;
  version: number;
  /** Who moved it: "pipeline:<runId>" or the API token's subject. */
  by: string;
  /** The run on whose behalf (for pipeline promotions), else any id for the history. */
  runId?: string;
  reason?: string;
  /**
   * Compare-and-set on the holder: the version expected to hold the alias now (null = nobody).
   * Absent = whoever holds it. A different holder throws AliasConflictError and moves nothing.
   */
  expected?: number | null;
}

export class AliasConflictError extends Error {
  constructor(name: string, alias: string, expected: number | null, actual: number | null) {
    super(
      `alias '${alias}' of model '${name}' is held by ${actual === null ? 'nobody' : `v${actual}`}, not ` +
        `${expected === null ? 'nobody' : `v${expected}`} as expected: someone moved it meanwhile; check GET /v1/models/${name}`
    );
    this.name = 'AliasConflictError';
  }
}

export interface MoveAliasResult {
  moved: boolean;
  holder: AliasHolder;
  /** The version that held the alias before (null if none). */
  previous: AliasHolder['previous'];
}

/**
 * Points `alias` at `version` atomically (compare-and-set on the model document) and records the
 * previous holder. Moving an alias to the version that already holds it is a no-op (moved=false),
 * so a retried promotion changes nothing.
 */
export async function moveAlias(store: Pick<Store, 'db'>, input: MoveAliasInput): Promise<MoveAliasResult> {
  if (!ALIAS_RE.test(input.alias)) throw new Error(`alias '${input.alias}' must match ${ALIAS_RE}`);
  const target = await modelVersions(store.db).findOne({ _id: `${input.name}:${input.version}` });
  if (!target) throw new Error(`model '${input.name}' has no version ${input.version}`);
  for (let tries = 0; tries < 10; tries++) {
    const model = await models(store.db).findOne({ _id: input.name });
    if (!model) throw new Error(`model '${input.name}' is not registered`);
    const current = model.aliases?.[input.alias];
    if (current && current.version === input.version)
      return { moved: false, holder: current, previous: current.previous };
    if (input.expected !== undefined && (current?.version ?? null) !== input.expected) {
      throw new AliasConflictError(input.name, input.alias, input.expected, current?.version ?? null);
    }
    const holder: AliasHolder = {
      version: input.version,
      runId: input.runId ?? target.runId,
      since: new Date(),
      by: input.by,
      previous: current ? { version: current.version, runId: current.runId, since: current.since } : null,
    };
    const key = `aliases.${input.alias}`;
    const res = await models(store.db).updateOne(
      {
        _id: input.name,
        ...(current
          ? { [`${key}.version`]: current.version, [`${key}.since`]: current.since }
          : { [key]: { $exists: false } }),
      },
      { $set: { [key]: holder, updatedAt: holder.since } }
    );
    if (res.modifiedCount !== 1) continue; // someone else moved it meanwhile: re-read and retry
    await modelVersions(store.db).updateOne(
      { _id: `${input.name}:${input.version}` },
      { $addToSet: { aliases: input.alias }, $set: { updatedAt: holder.since } }
    );
    if (current) {
      await modelVersions(store.db).updateOne(
        { _id: `${input.name}:${current.version}` },
        { $pull: { aliases: input.alias }, $set: { updatedAt: holder.since } }
      );
    }
    await aliasMoves(store.db).updateOne(
      { _id: `${input.name}:${input.alias}:${holder.since.getTime()}:${input.version}` },
      {
        $setOnInsert: {
          name: input.name,
          alias: input.alias,
          version: input.version,
          previous: current?.version ?? null,
          runId: holder.runId,
          by: input.by,
          reason: input.reason,
          at: holder.since,
        },
      },
      { upsert: true }
    );
    return { moved: true, holder, previous: holder.previous };
  }
  throw new Error(`alias '${input.alias}' of model '${input.name}' kept changing; try again`);
}

/**
 * Removes `alias` if `version` holds it (compare-and-set), recording the move; a no-op otherwise,
 * so a retried rollback changes nothing. Returns whether it removed it.
 */
export async function removeAlias(
  store: Pick<Store, 'db'>,
  input: { name: string; alias: string; version: number; by: string; reason?: string }
): Promise<boolean> {
  const key = `aliases.${input.alias}`;
  const model = await models(store.db).findOne({ _id: input.name });
  const current = model?.aliases?.[input.alias];
  if (!current || current.version !== input.version) return false;
  const at = new Date();
  const res = await models(store.db).updateOne(
    { _id: input.name, [`${key}.version`]: current.version, [`${key}.since`]: current.since },
    { $unset: { [key]: '' }, $set: { updatedAt: at } }
  );
  if (res.modifiedCount !== 1) return false;
  await modelVersions(store.db).updateOne(
    { _id: `${input.name}:${input.version}` },
    { $pull: { aliases: input.alias }, $set: { updatedAt: at } }
  );
  await aliasMoves(store.db).insertOne({
    _id: `${input.name}:${input.alias}:${at.getTime()}:removed`,
    name: input.name,
    alias: input.alias,
    version: 0,
    previous: input.version,
    runId: current.runId,
    by: input.by,
    reason: input.reason,
    at,
  });
  return true;
}

export async function getModel(store: Pick<Store, 'db'>, name: string): Promise<ModelDoc | null> {
  return models(store.db).findOne({ _id: name });
}

/** Models, most recently updated first. */
export async function listModels(
  store: Pick<Store, 'db'>,
  opts: { limit?: number; skip?: number } = {}
): Promise<ModelDoc[]> {
  const limit = pageLimit(opts.limit, 50);
  return models(store.db)
    .find({})
    .sort({ updatedAt: -1, _id: 1 })
    .skip(opts.skip ?? 0)
    .limit(limit)
    .toArray();
}

export async function getModelVersion(
  store: Pick<Store, 'db'>,
  name: string,
  version: number
): Promise<ModelVersionDoc | null> {
  return modelVersions(store.db).findOne({ _id: `${name}:${version}` });
}

export async function listModelVersions(
  store: Pick<Store, 'db'>,
  name: string,
  opts: { limit?: number; skip?: number } = {}
): Promise<ModelVersionDoc[]> {
  const limit = pageLimit(opts.limit, 50);
  return modelVersions(store.db)
    .find({ name })
    .sort({ version: -1 })
    .skip(opts.skip ?? 0)
    .limit(limit)
    .toArray();
}

export async function getVersionByRun(store: Pick<Store, 'db'>, runId: string): Promise<ModelVersionDoc | null> {
  return modelVersions(store.db).findOne({ runId });
}

/** The version holding `alias` (e.g. production), or null. */
export async function getAliasVersion(
  store: Pick<Store, 'db'>,
  name: string,
  alias: string
): Promise<ModelVersionDoc | null> {
  const model = await getModel(store, name);
  const holder = model?.aliases?.[alias];
  return holder ? getModelVersion(store, name, holder.version) : null;
}

export async function getAliasHistory(store: Pick<Store, 'db'>, name: string, limit = 100): Promise<AliasMove[]> {
  const moves = await aliasMoves(store.db).find({ name }).sort({ at: -1 }).limit(Math.min(limit, 1000)).toArray();
  return moves.map((m) => ({ ...m, previous: m.previous ?? null })); // FerretDB may drop a stored null
}

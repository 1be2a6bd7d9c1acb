// The one way serving code (online inference servers, batch inference activities) turns a model
// name plus an alias or version into ONNX bytes it may run. It resolves the alias, refuses a
// version whose signature does not verify (audited, so a tampered registry is visible), and reads
// the `serving` artifact: the int8 graph when promotion chose it, else the float export. The
// artifact read itself checks the content hash, so bytes that changed in the store never load.
import { appendAudit, type AuditActor } from './audit';
import { readArtifact, type ArtifactRef } from './artifacts';
import type { Store } from './db';
import {
  getAliasVersion,
  getModelVersion,
  verifyModelVersion,
  ModelSignatureError,
  type ModelVersionDoc,
} from './models';
import { markErrorClass } from '../workflow-safe/typed-error';

export type ModelRef = { alias: string; version?: undefined } | { version: number; alias?: undefined };

export class ServedModelNotFoundError extends Error {
  constructor(name: string, ref: ModelRef) {
    super(
      ref.version !== undefined
        ? `model '${name}' has no version ${ref.version}; list versions with GET /v1/models/${name}`
        : `model '${name}' has no '${ref.alias}' alias yet; approve a run of it, or pin a version`
    );
  }
}
markErrorClass(ServedModelNotFoundError, 'ServedModelNotFoundError');

export interface ServedModel {
  version: ModelVersionDoc;
  /** The artifact that is run: `serving` (int8 or float, as promotion chose), else `onnx`. */
  artifact: ArtifactRef;
  onnx: Buffer;
}

/** Resolves, verifies and reads the model to serve. Throws ServedModelNotFoundError or ModelSignatureError. */
export async function loadServedModel(
  store: Pick<Store, 'db' | 'keyring'>,
  name: string,
  ref: ModelRef,
  actor: AuditActor | null = null
): Promise<ServedModel> {
  const version =
    ref.version !== undefined
      ? await getModelVersion(store, name, ref.version)
      : await getAliasVersion(store, name, ref.alias);
  if (!version) throw new ServedModelNotFoundError(name, ref);
  try {
    verifyModelVersion(store, version);
  } catch (err) {
    if (err instanceof ModelSignatureError) {
      await appendAudit(store, {
        actor,
        action: 'model.verify',
        object: { type: 'model_version', id: version._id },
        outcome: 'failed',
        details: { reason: 'signature mismatch; model not served' },
      }).catch(() => undefined); // the refusal stands even when the audit write fails
    }
    throw err;
  }
  const artifact = version.artifacts.serving ?? version.artifacts.onnx;
  return { version, artifact, onnx: await readArtifact(store, artifact) };
}

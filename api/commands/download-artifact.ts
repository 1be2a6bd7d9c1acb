// Reading a version's artifact for download: the role defaults to what production runs, the bytes
// are re-hashed on every read (lib/store/artifacts.ts), and a failed check is audited (someone
// changed or lost stored bytes) before the caller gets a 500 naming the artifact.
import {
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  readArtifact,
  type ArtifactRef,
} from '../../lib/store/artifacts';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';
import { mustGetVersion } from './model-lookup';

export async function downloadArtifact(
  ctx: ApiContext,
  caller: Caller,
  input: { name: string; version: number; role?: string }
): Promise<{ ref: ArtifactRef; role: string; bytes: Buffer }> {
  const { name, version } = input;
  const v = await mustGetVersion(ctx, name, version);
  const role = input.role ?? (v.artifacts.serving ? 'serving' : 'onnx');
  const ref = v.artifacts[role];
  if (!ref) {
    throw problems.notFound(
      `Version ${version} of ${name} has no ${role} artifact; it has: ${Object.keys(v.artifacts).join(', ') || 'none'}.`
    );
  }
  try {
    return { ref, role, bytes: await readArtifact(ctx.store, ref) };
  } catch (err) {
    const what = (uri: string) => `Artifact ${uri} (${role} of ${name} v${version})`;
    if (err instanceof ArtifactNotFoundError) {
      throw problems.integrity(`${what(err.uri)} is missing from the store.`, { extra: { artifact: err.uri } });
    }
    if (!(err instanceof ArtifactIntegrityError)) throw err;
    ctx.log.error('artifact integrity check failed', { uri: err.uri, model: name, version, role });
    await caller.audit({
      action: 'artifact.integrity_failure',
      object: { type: 'model', id: name },
      outcome: 'failed',
      details: { version, role, uri: err.uri },
    });
    throw problems.integrity(
      `${what(err.uri)} failed its sha256 check: the stored bytes were changed or lost. Nothing was sent.`,
      { extra: { artifact: err.uri } }
    );
  }
}

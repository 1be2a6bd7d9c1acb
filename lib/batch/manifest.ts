// A batch job's output (and its errors) is one ordered file made of content-addressed parts: the
// CSV header, then each chunk's output in input order. The manifest lists the parts; it is an
// artifact itself, so its sha256 names the whole output. The download streams part after part,
// which keeps memory bounded whatever the output's size (one file of 10M rows never exists as
// one buffer anywhere).
import { putArtifact, readArtifact, type ArtifactRef } from '../store/artifacts';
import type { Store } from '../store/db';

export const MANIFEST_MEDIA = 'application/x-mlops-parts+json';

export interface PartsManifest {
  kind: 'mlops.parts';
  /** Media type of the assembled file. */
  mediaType: string;
  bytes: number;
  parts: ArtifactRef[];
}

export const OUTPUT_MEDIA = { csv: 'text/csv', jsonl: 'application/x-ndjson' } as const;
export const ERRORS_MEDIA = OUTPUT_MEDIA.jsonl;

export async function putManifest(
  store: Pick<Store, 'db' | 'keyring'>,
  mediaType: string,
  parts: ArtifactRef[],
  labels: Record<string, string>
): Promise<ArtifactRef> {
  const kept = parts.filter((p) => p.bytes > 0);
  const m: PartsManifest = {
    kind: 'mlops.parts',
    mediaType,
    bytes: kept.reduce((s, p) => s + p.bytes, 0),
    parts: kept,
  };
  return putArtifact(store, Buffer.from(JSON.stringify(m)), MANIFEST_MEDIA, labels);
}

export async function readManifest(store: Pick<Store, 'db' | 'keyring'>, ref: ArtifactRef): Promise<PartsManifest> {
  const m = JSON.parse((await readArtifact(store, ref)).toString('utf8')) as PartsManifest;
  if (m.kind !== 'mlops.parts' || !Array.isArray(m.parts))
    throw new Error(`artifact ${ref.uri} is not a parts manifest`);
  return m;
}

/** Writes the assembled file part by part (awaiting `write`, so back-pressure bounds memory). */
export async function streamParts(
  store: Pick<Store, 'db' | 'keyring'>,
  m: PartsManifest,
  write: (bytes: Buffer) => Promise<void>
): Promise<void> {
  for (const part of m.parts) await write(await readArtifact(store, part));
}

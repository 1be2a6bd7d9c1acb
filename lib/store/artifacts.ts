// Content-addressed artifact store in MongoDB, GridFS-style: a manifest per artifact in
// `artifacts` (_id = sha256 hex) and its bytes in 255 KiB chunks in `artifact_chunks`
// (_id = "<sha256>:<n>"). Writing is idempotent (same bytes, same id; chunks are upserted and
// the manifest is completed last, so a half-written artifact is never readable). Every read
// re-hashes the bytes and throws ArtifactIntegrityError naming the artifact on a mismatch.
// With the store's keyring (always, for stores from openStore) the chunks hold ciphertext:
// envelope encryption, a data key per artifact wrapped by the master key (lib/crypto/envelope);
// the manifest is then claimed first, marked pending, so racing writers share one data key.
import { createHash } from 'node:crypto';
import { Binary, type AnyBulkWriteOperation, type Collection, type Db } from 'mongodb';
import { newDataKey, openArtifact, sealBody, unwrapDataKey, type Envelope } from '../crypto/envelope';
import type { Keyring } from '../crypto/keyring';
import type { Store } from './db';
import { isDuplicateKey } from './errors';
import { markErrorClass } from '../workflow-safe/typed-error';

export const ARTIFACTS = 'artifacts';
export const ARTIFACT_CHUNKS = 'artifact_chunks';
export const CHUNK_SIZE = 255 * 1024;

/** What workflows and documents carry instead of bytes. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  bytes: number;
  mediaType: string;
}

export interface ArtifactManifest {
  _id: string;
  sha256: string;
  bytes: number;
  mediaType: string;
  chunkSize: number;
  chunks: number;
  createdAt: Date;
  /** Free-form labels of the first writer (kind, runId); informational only. */
  labels?: Record<string, string>;
  /** Present when the chunks hold ciphertext; `storedBytes` is then the ciphertext's length. */
  encryption?: Envelope;
  storedBytes?: number;
  /** Set while the first writer of an encrypted artifact writes its chunks: not readable yet. */
  pending?: boolean;
}

interface ChunkDoc {
  _id: string;
  sha256: string;
  n: number;
  data: Binary;
}

export class ArtifactIntegrityError extends Error {
  constructor(
    readonly uri: string,
    detail: string
  ) {
    super(`artifact ${uri} failed its integrity check: ${detail}; the stored bytes were changed or lost`);
  }
}
markErrorClass(ArtifactIntegrityError, 'ArtifactIntegrityError');

export class ArtifactNotFoundError extends Error {
  constructor(readonly uri: string) {
    super(`artifact ${uri} does not exist in the artifact store`);
    this.name = 'ArtifactNotFoundError';
  }
}

export const MEDIA = {
  onnx: 'application/onnx',
  frame: 'application/x-mlops-frame',
  model: 'application/x-mlops-model',
  checkpoint: 'application/x-mlops-checkpoint',
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  rowHashes: 'application/x-mlops-row-hashes',
} as const;

export function artifactUri(sha256: string): string {
  return `artifact://sha256/${sha256}`;
}

function shaOf(ref: ArtifactRef | string): string {
  if (typeof ref !== 'string') return ref.sha256;
  const m = /^(?:artifact:\/\/sha256\/)?([0-9a-f]{64})$/.exec(ref);
  if (!m) throw new Error(`'${ref}' is not an artifact reference (artifact://sha256/<64 hex>)`);
  return m[1];
}

function manifests(db: Db): Collection<ArtifactManifest> {
  return db.collection<ArtifactManifest>(ARTIFACTS);
}
function chunks(db: Db): Collection<ChunkDoc> {
  return db.collection<ChunkDoc>(ARTIFACT_CHUNKS);
}

export async function ensureArtifactIndexes(db: Db): Promise<void> {
  await chunks(db).createIndex({ sha256: 1, n: 1 }, { name: 'sha256_n' });
}

/** Stores bytes (idempotent) and returns their reference. */
export async function putArtifact(
  store: Pick<Store, 'db' | 'keyring'>,
  data: Uint8Array,
  mediaType: string,
  labels?: Record<string, string>
): Promise<ArtifactRef> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const ref: ArtifactRef = { uri: artifactUri(sha256), sha256, bytes: data.byteLength, mediaType };
  const existing = await manifests(store.db).findOne({ _id: sha256 }, { projection: { pending: 1 } });
  if (existing && !existing.pending) return ref;
  const body = store.keyring
    ? await sealedBody(store as Pick<Store, 'db'> & { keyring: Keyring }, sha256, data)
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const count = Math.max(1, Math.ceil(body.length / CHUNK_SIZE));
  // Chunks go in batches of 16 (4 MiB) per round trip; each is an upsert, so a retry (or a
  // racing writer of the same artifact) rewrites the same documents with the same bytes.
  for (let first = 0; first < count; first += 16) {
    const ops: AnyBulkWriteOperation<ChunkDoc>[] = [];
    for (let n = first; n < Math.min(first + 16, count); n++) {
      const part = body.subarray(n * CHUNK_SIZE, Math.min((n + 1) * CHUNK_SIZE, body.length));
      ops.push({
        replaceOne: {
          filter: { _id: `${sha256}:${n}` },
          replacement: { sha256, n, data: new Binary(part) },
          upsert: true,
        },
      });
    }
    await upsertIgnoringRace(() => chunks(store.db).bulkWrite(ops, { ordered: false }));
  }
  const complete = {
    sha256,
    bytes: data.byteLength,
    mediaType,
    chunkSize: CHUNK_SIZE,
    chunks: count,
    ...(store.keyring ? { storedBytes: body.length } : {}),
  };
  await upsertIgnoringRace(() =>
    manifests(store.db).updateOne(
      { _id: sha256 },
      {
        $set: complete,
        $unset: { pending: '' },
        $setOnInsert: { createdAt: new Date(), ...(labels ? { labels } : {}) },
      },
      { upsert: true }
    )
  );
  return ref;
}

export async function statArtifact(
  store: Pick<Store, 'db'>,
  ref: ArtifactRef | string
): Promise<ArtifactManifest | null> {
  return manifests(store.db).findOne({ _id: shaOf(ref) });
}

/** The artifact's bytes, verified against its sha256 (throws ArtifactIntegrityError naming it). */
export async function readArtifact(store: Pick<Store, 'db' | 'keyring'>, ref: ArtifactRef | string): Promise<Buffer> {
  const sha256 = shaOf(ref);
  const uri = artifactUri(sha256);
  const manifest = await manifests(store.db).findOne({ _id: sha256 });
  if (!manifest || manifest.pending) throw new ArtifactNotFoundError(uri);
  // One lookup per chunk by _id: FerretDB v1 pushes only _id equality down to SQLite, so a
  // {sha256} filter (or {_id: {$in}}) scans every chunk of every artifact.
  const docs = await Promise.all(
    Array.from({ length: manifest.chunks }, (_, n) => chunks(store.db).findOne({ _id: `${sha256}:${n}` }))
  );
  const parts = docs.map((d, n) => {
    if (!d) throw new ArtifactIntegrityError(uri, `chunk ${n} of ${manifest.chunks} is missing`);
    return Buffer.from(d.data.buffer);
  });
  const stored = Buffer.concat(parts);
  const storedBytes = manifest.storedBytes ?? manifest.bytes;
  if (stored.length !== storedBytes) {
    throw new ArtifactIntegrityError(uri, `expected ${storedBytes} bytes, found ${stored.length}`);
  }
  const bytes = manifest.encryption ? decrypt(store, uri, manifest, stored) : stored;
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new ArtifactIntegrityError(uri, `content hashes to ${actual}`);
  return bytes;
}

/**
 * The ciphertext of an encrypted artifact. The manifest is claimed first (pending, with
 * its envelope) so that every writer of the same bytes seals them with the first writer's
 * data key, which makes the chunks identical whoever writes them (lib/crypto/envelope).
 */
async function sealedBody(
  store: Pick<Store, 'db'> & { keyring: Keyring },
  sha256: string,
  data: Uint8Array
): Promise<Buffer> {
  const fresh = newDataKey(store.keyring, sha256);
  await upsertIgnoringRace(() =>
    manifests(store.db).updateOne(
      { _id: sha256 },
      { $setOnInsert: { pending: true, encryption: fresh.envelope } },
      { upsert: true }
    )
  );
  const claimed = await manifests(store.db).findOne({ _id: sha256 }, { projection: { encryption: 1 } });
  if (!claimed?.encryption) throw new Error(`artifact ${artifactUri(sha256)} exists unencrypted; refusing to mix`);
  return sealBody(unwrapDataKey(store.keyring, sha256, claimed.encryption), sha256, data);
}

/** Two first upserts of one _id race on the insert; the loser's outcome is the winner's document. */
async function upsertIgnoringRace(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await write();
  }
}

function decrypt(store: Pick<Store, 'keyring'>, uri: string, manifest: ArtifactManifest, stored: Buffer): Buffer {
  if (!store.keyring) {
    throw new Error(
      `artifact ${uri} is encrypted at rest; open the store with openStore(cfg) so it has the master keys`
    );
  }
  try {
    return openArtifact(store.keyring, manifest.sha256, manifest.encryption!, stored);
  } catch (err) {
    throw new ArtifactIntegrityError(uri, (err as Error).message);
  }
}

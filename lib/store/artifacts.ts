// Content-addressed artifact store in MongoDB, GridFS-style: a manifest per artifact in
// `artifacts` (_id = sha256 hex) and its bytes in 255 KiB chunks in `artifact_chunks`
// (_id = "<sha256>:<n>"). Writing is idempotent (same bytes, same id; chunks are upserted and
// the manifest is written last, so a half-written artifact is never visible). Every read
// re-hashes the bytes and throws ArtifactIntegrityError naming the artifact on a mismatch.
import { createHash } from 'node:crypto';
import { Binary, type Collection, type Db } from 'mongodb';
import type { Store } from './db';

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
    this.name = 'ArtifactIntegrityError';
  }
}

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
  store: Pick<Store, 'db'>,
  data: Uint8Array,
  mediaType: string,
  labels?: Record<string, string>
): Promise<ArtifactRef> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const ref: ArtifactRef = { uri: artifactUri(sha256), sha256, bytes: data.byteLength, mediaType };
  const existing = await manifests(store.db).findOne({ _id: sha256 }, { projection: { _id: 1 } });
  if (existing) return ref;
  const count = Math.max(1, Math.ceil(data.byteLength / CHUNK_SIZE));
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Chunks go in batches of 16 (4 MiB) per round trip; each is an upsert, so a retry rewrites
  // the same documents.
  for (let first = 0; first < count; first += 16) {
    const ops = [];
    for (let n = first; n < Math.min(first + 16, count); n++) {
      const part = buf.subarray(n * CHUNK_SIZE, Math.min((n + 1) * CHUNK_SIZE, buf.length));
      ops.push({
        replaceOne: {
          filter: { _id: `${sha256}:${n}` },
          replacement: { sha256, n, data: new Binary(part) },
          upsert: true,
        },
      });
    }
    await chunks(store.db).bulkWrite(ops, { ordered: false });
  }
  await manifests(store.db).updateOne(
    { _id: sha256 },
    {
      $setOnInsert: {
        sha256,
        bytes: data.byteLength,
        mediaType,
        chunkSize: CHUNK_SIZE,
        chunks: count,
        createdAt: new Date(),
        ...(labels ? { labels } : {}),
      },
    },
    { upsert: true }
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
export async function readArtifact(store: Pick<Store, 'db'>, ref: ArtifactRef | string): Promise<Buffer> {
  const sha256 = shaOf(ref);
  const uri = artifactUri(sha256);
  const manifest = await manifests(store.db).findOne({ _id: sha256 });
  if (!manifest) throw new ArtifactNotFoundError(uri);
  const docs = await chunks(store.db).find({ sha256 }).sort({ n: 1 }).toArray();
  if (docs.length !== manifest.chunks) {
    throw new ArtifactIntegrityError(uri, `expected ${manifest.chunks} chunk(s), found ${docs.length}`);
  }
  const parts = docs.map((d, i) => {
    if (d.n !== i) throw new ArtifactIntegrityError(uri, `chunk ${i} is missing`);
    return Buffer.from(d.data.buffer);
  });
  const bytes = Buffer.concat(parts);
  if (bytes.length !== manifest.bytes) {
    throw new ArtifactIntegrityError(uri, `expected ${manifest.bytes} bytes, found ${bytes.length}`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new ArtifactIntegrityError(uri, `content hashes to ${actual}`);
  return bytes;
}

// Envelope encryption for artifacts at rest: each artifact gets a fresh 256-bit data key,
// the data is sealed with it (AES-256-GCM), and the data key is sealed with the active
// master key. Only the wrapped key is stored, with the master key id, so master keys
// rotate without re-encrypting artifacts. The artifact's sha256 (of the clear bytes) is
// bound as associated data: a sealed body cannot be swapped between artifacts.
//
// The body's nonce is derived from the data key and the digest, so sealing the same
// artifact with the same data key gives the same bytes: writers racing on one
// content-addressed artifact (they share the first writer's data key) write identical
// chunks. A nonce never repeats under a data key with different plaintext, because a data
// key belongs to one digest.
import { createHmac, randomBytes } from 'node:crypto';
import { open, seal } from './aes-gcm';
import type { Keyring } from './keyring';

export interface Envelope {
  alg: 'AES-256-GCM';
  keyId: string;
  /** The data key, sealed by the master key `keyId` (base64). */
  wrappedKey: string;
}

export function newDataKey(keyring: Keyring, sha256: string): { envelope: Envelope; dataKey: Buffer } {
  const dataKey = randomBytes(32);
  const master = keyring.keys.get(keyring.activeId)!;
  const wrappedKey = seal(master, dataKey, Buffer.from(sha256)).toString('base64');
  return { envelope: { alg: 'AES-256-GCM', keyId: keyring.activeId, wrappedKey }, dataKey };
}

export function unwrapDataKey(keyring: Keyring, sha256: string, envelope: Envelope): Buffer {
  const master = keyring.keys.get(envelope.keyId);
  if (!master)
    throw new Error(`artifact ${sha256} is encrypted with master key "${envelope.keyId}", which is not configured`);
  try {
    return open(master, Buffer.from(envelope.wrappedKey, 'base64'), Buffer.from(sha256));
  } catch {
    throw new Error(`artifact ${sha256} failed decryption: its key was altered or belongs to another artifact`);
  }
}

export function sealBody(dataKey: Buffer, sha256: string, clear: Uint8Array): Buffer {
  const nonce = createHmac('sha256', dataKey).update(sha256).digest().subarray(0, 12);
  return seal(dataKey, clear, Buffer.from(sha256), nonce);
}

export function openBody(dataKey: Buffer, sha256: string, body: Uint8Array): Buffer {
  try {
    return open(dataKey, body, Buffer.from(sha256));
  } catch {
    throw new Error(`artifact ${sha256} failed decryption: it was altered or belongs to another artifact`);
  }
}

export function sealArtifact(
  keyring: Keyring,
  sha256: string,
  clear: Uint8Array
): { envelope: Envelope; body: Buffer } {
  const { envelope, dataKey } = newDataKey(keyring, sha256);
  return { envelope, body: sealBody(dataKey, sha256, clear) };
}

export function openArtifact(keyring: Keyring, sha256: string, envelope: Envelope, body: Uint8Array): Buffer {
  return openBody(unwrapDataKey(keyring, sha256, envelope), sha256, body);
}

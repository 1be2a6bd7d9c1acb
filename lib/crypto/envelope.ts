// Envelope encryption for artifacts at rest: each artifact gets a fresh 256-bit data key,
// the data is sealed with it (AES-256-GCM), and the data key is sealed with the active
// master key. Only the wrapped key is stored, with the master key id, so master keys
// rotate without re-encrypting artifacts. The artifact's sha256 (of the clear bytes) is
// bound as associated data: a sealed body cannot be swapped between artifacts.
import { randomBytes } from 'node:crypto';
import { open, seal } from './aes-gcm';
import type { Keyring } from './keyring';

export interface Envelope {
  alg: 'AES-256-GCM';
  keyId: string;
  /** The data key, sealed by the master key `keyId` (base64). */
  wrappedKey: string;
}

export function sealArtifact(
  keyring: Keyring,
  sha256: string,
  clear: Uint8Array
): { envelope: Envelope; body: Buffer } {
  const dataKey = randomBytes(32);
  const aad = Buffer.from(sha256);
  const master = keyring.keys.get(keyring.activeId)!;
  return {
    envelope: {
      alg: 'AES-256-GCM',
      keyId: keyring.activeId,
      wrappedKey: seal(master, dataKey, aad).toString('base64'),
    },
    body: seal(dataKey, clear, aad),
  };
}

export function openArtifact(keyring: Keyring, sha256: string, envelope: Envelope, body: Uint8Array): Buffer {
  const master = keyring.keys.get(envelope.keyId);
  if (!master)
    throw new Error(`artifact ${sha256} is encrypted with master key "${envelope.keyId}", which is not configured`);
  const aad = Buffer.from(sha256);
  try {
    const dataKey = open(master, Buffer.from(envelope.wrappedKey, 'base64'), aad);
    return open(dataKey, body, aad);
  } catch {
    throw new Error(`artifact ${sha256} failed decryption: it was altered or belongs to another artifact`);
  }
}

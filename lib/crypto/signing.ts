// Model version signatures: HMAC-SHA256 over the artifact digests and the lineage, with
// a signing key derived (HKDF) from a master key, so no separate secret needs managing.
// Workers verify before loading a model; any change to an artifact digest or a lineage
// field breaks the signature.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { Keyring } from './keyring';

export interface Signature {
  alg: 'HMAC-SHA256';
  keyId: string;
  value: string;
}

function signingKey(keyring: Keyring, keyId: string): Buffer {
  const master = keyring.keys.get(keyId);
  if (!master) throw new Error(`signature uses key "${keyId}", which is not configured`);
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'mlops model signing v1', 32));
}

export function sign(keyring: Keyring, subject: unknown): Signature {
  const mac = createHmac('sha256', signingKey(keyring, keyring.activeId)).update(canonicalJson(subject)).digest('hex');
  return { alg: 'HMAC-SHA256', keyId: keyring.activeId, value: mac };
}

export function verify(keyring: Keyring, subject: unknown, signature: Signature | undefined): boolean {
  if (!signature || signature.alg !== 'HMAC-SHA256' || !keyring.keys.has(signature.keyId)) return false;
  const expected = createHmac('sha256', signingKey(keyring, signature.keyId)).update(canonicalJson(subject)).digest();
  const given = Buffer.from(signature.value, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

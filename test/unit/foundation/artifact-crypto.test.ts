import { createHash, randomBytes } from 'node:crypto';
import { openArtifact, sealArtifact } from '../../../lib/crypto/envelope';
import type { Keyring } from '../../../lib/crypto/keyring';
import { canonicalJson } from '../../../lib/crypto/canonical-json';
import { sign, verify } from '../../../lib/crypto/signing';

const ring = (...ids: string[]): Keyring => ({
  activeId: ids[0],
  keys: new Map(ids.map((id) => [id, randomBytes(32)])),
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('artifact envelope encryption', () => {
  const clear = Buffer.from('ONNX model bytes: weights 0.1 0.2 0.3');
  const digest = sha(clear);

  it('stores no clear bytes and round-trips, also after a master key rotation', () => {
    const old = ring('k1');
    const { envelope, body } = sealArtifact(old, digest, clear);
    expect(body.includes(clear)).toBe(false);
    expect(envelope.keyId).toBe('k1');
    const rotated: Keyring = { activeId: 'k2', keys: new Map([['k2', randomBytes(32)], ...old.keys]) };
    expect(openArtifact(rotated, digest, envelope, body).equals(clear)).toBe(true);
  });

  it('refuses altered bodies and bodies moved to another artifact', () => {
    const keys = ring('k1');
    const { envelope, body } = sealArtifact(keys, digest, clear);
    const altered = Buffer.from(body);
    altered[15] ^= 1;
    expect(() => openArtifact(keys, digest, envelope, altered)).toThrow(/altered or belongs to another artifact/);
    expect(() => openArtifact(keys, sha(Buffer.from('other')), envelope, body)).toThrow(/failed decryption/);
    expect(() => openArtifact(ring('k9'), digest, envelope, body)).toThrow(/master key "k1", which is not configured/);
  });
});

describe('model signatures', () => {
  const lineage = {
    model: 'penguins',
    version: 3,
    artifacts: { onnx: 'ab'.repeat(32) },
    dataset: { sha256: 'cd'.repeat(32) },
  };

  it('verifies what it signed, whatever the key order', () => {
    const keys = ring('k1');
    const signature = sign(keys, lineage);
    expect(
      verify(keys, { dataset: lineage.dataset, version: 3, artifacts: lineage.artifacts, model: 'penguins' }, signature)
    ).toBe(true);
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });

  it('fails on any change to a digest, a lineage field, the signature or the key', () => {
    const keys = ring('k1');
    const signature = sign(keys, lineage);
    expect(verify(keys, { ...lineage, artifacts: { onnx: 'ef'.repeat(32) } }, signature)).toBe(false);
    expect(verify(keys, { ...lineage, version: 4 }, signature)).toBe(false);
    expect(
      verify(keys, lineage, { ...signature, value: signature.value.replace(/^./, (c) => (c === '0' ? '1' : '0')) })
    ).toBe(false);
    expect(verify(ring('k1'), lineage, signature)).toBe(false);
    expect(verify(keys, lineage, undefined)).toBe(false);
  });
});

import { defaultPayloadConverter } from '@temporalio/common';
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatKeyring, Keyring, loadKeyring, parseKeyring } from '../../../lib/crypto/keyring';
import { ENCRYPTED_ENCODING, EncryptionCodec, PlaintextPayloadError } from '../../../lib/temporal/encryption-codec';

const key = (id: string): Keyring => ({ activeId: id, keys: new Map([[id, randomBytes(32)]]) });

describe('EncryptionCodec', () => {
  const secret = { weights: 'very secret model input' };
  const payload = defaultPayloadConverter.toPayload(secret);

  it('hides the payload and round-trips it', async () => {
    const codec = new EncryptionCodec(key('k1'));
    const [encoded] = await codec.encode([payload]);
    expect(Buffer.from(encoded.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(Buffer.from(encoded.data!).toString('latin1')).not.toContain('very secret');
    const [decoded] = await codec.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(secret);
  });

  it('keeps old payloads readable after rotation and writes new ones with the new key', async () => {
    const old = key('k1');
    const [before] = await new EncryptionCodec(old).encode([payload]);
    const rotated: Keyring = { activeId: 'k2', keys: new Map([['k2', randomBytes(32)], ...old.keys]) };
    const codec = new EncryptionCodec(rotated);
    expect(defaultPayloadConverter.fromPayload((await codec.decode([before]))[0])).toEqual(secret);
    const [after] = await codec.encode([payload]);
    expect(Buffer.from(after.metadata!['encryption-key-id']!).toString()).toBe('k2');
  });

  it('refuses a tampered payload and names a missing key', async () => {
    const ring = key('k1');
    const [encoded] = await new EncryptionCodec(ring).encode([payload]);
    const tampered = { ...encoded, data: Buffer.from(encoded.data!).fill(7, 20, 21) };
    await expect(new EncryptionCodec(ring).decode([tampered])).rejects.toThrow(/unable to authenticate data/);
    await expect(new EncryptionCodec(key('other')).decode([encoded])).rejects.toThrow(
      /key "k1", which is not in MLOPS_ENCRYPTION_KEYS/
    );
  });
});

describe('EncryptionCodec and unencrypted payloads', () => {
  const plain = defaultPayloadConverter.toPayload({ decision: 'approve', approver: 'mallory' });

  it('refuses unencrypted payloads unless opted out', async () => {
    await expect(new EncryptionCodec(key('k1')).decode([plain])).rejects.toThrow(PlaintextPayloadError);
    await expect(new EncryptionCodec(key('k1')).decode([plain])).rejects.toThrow(
      /Refused an unencrypted Temporal payload \(encoding "json\/plain"\).*MLOPS_TEMPORAL_ACCEPT_PLAINTEXT=1/
    );
    const [passed] = await new EncryptionCodec(key('k1'), { acceptPlaintext: true }).decode([plain]);
    expect(passed).toBe(plain);
  });
});

describe('keyring', () => {
  it('parses newest-first and rejects malformed keys without echoing them', () => {
    const text = formatKeyring({
      activeId: 'a',
      keys: new Map([
        ['a', randomBytes(32)],
        ['b', randomBytes(32)],
      ]),
    });
    expect(parseKeyring(text, 'X').activeId).toBe('a');
    expect(() => parseKeyring('k1:c2hvcnQ=', 'X')).toThrow(/keyId:base64 of 32 random bytes/);
    expect(() => parseKeyring('k1:c2hvcnQ=', 'X')).not.toThrow(/c2hvcnQ/);
  });

  it('generates one key into the data dir with mode 0600, reuses it, and refuses to in production', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keys-'));
    const first = await loadKeyring({ dataDir: dir, production: false });
    expect(first.generatedAt).toBe(path.join(dir, 'encryption-keys'));
    expect(statSync(first.generatedAt!).mode & 0o777).toBe(0o600);
    const second = await loadKeyring({ dataDir: dir, production: false });
    expect(second.generatedAt).toBeUndefined();
    expect(second.keyring.keys.get('k1')).toEqual(first.keyring.keys.get('k1'));
    await expect(loadKeyring({ dataDir: dir, production: true })).rejects.toThrow(/required when MLOPS_ENV=production/);
  });
});

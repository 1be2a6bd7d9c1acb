// Encrypts every Temporal payload (inputs, results, signals, queries, memos, failure
// details) with AES-256-GCM, so the Temporal server and its database only see
// ciphertext. The key id travels in the payload metadata, so rotated-out keys still
// decrypt old histories. Unencrypted inbound payloads are refused: they can only come from
// outside the mlops data converter (e.g. a plain `temporal workflow signal`), except where a
// migration from unencrypted histories opts out (MLOPS_TEMPORAL_ACCEPT_PLAINTEXT=1) and for
// display in Temporal UI (api/routes/codec.ts).
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { open, seal } from '../crypto/aes-gcm';
import type { Keyring } from '../crypto/keyring';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PlaintextPayloadError extends Error {
  constructor(encoding: string) {
    super(
      `Refused an unencrypted Temporal payload (encoding "${encoding}"): every payload must be written through the mlops data converter, so a plain \`temporal workflow signal\` or \`update\` cannot reach a workflow. While migrating histories written before encryption, set MLOPS_TEMPORAL_ACCEPT_PLAINTEXT=1.`
    );
    this.name = 'PlaintextPayloadError';
  }
}

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keyring: Keyring,
    private readonly opts: { acceptPlaintext?: boolean } = {}
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { activeId, keys } = this.keyring;
    const key = keys.get(activeId)!;
    return payloads.map((payload) => ({
      metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID]: encoder.encode(activeId) },
      data: seal(key, temporal.api.common.v1.Payload.encode(payload).finish()),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = decoder.decode(payload.metadata?.encoding);
      if (encoding !== ENCRYPTED_ENCODING) {
        if (this.opts.acceptPlaintext) return payload;
        throw new PlaintextPayloadError(encoding);
      }
      const keyId = decoder.decode(payload.metadata?.[KEY_ID]);
      const key = this.keyring.keys.get(keyId);
      if (!key) {
        throw new Error(
          `Payload was encrypted with key "${keyId}", which is not in MLOPS_ENCRYPTION_KEYS: add it back to read this history`
        );
      }
      return temporal.api.common.v1.Payload.decode(open(key, payload.data ?? new Uint8Array()));
    });
  }
}

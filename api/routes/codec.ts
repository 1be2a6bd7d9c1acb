// The remote codec for Temporal UI and CLI (`--codec-endpoint <api>/codec`): payloads in
// the history are ciphertext; an authenticated reader gets them decoded here, in the
// Temporal codec-server JSON form { payloads: [{ metadata: {k: base64}, data: base64 }] }.
// A browser authenticates with the session cookie of POST /v1/session (the embedded UI
// calls the codec through its own origin: tools/stack/ui-front.ts). CORS admits only the
// embedded Temporal UI's origins, for a UI configured with codec.includeCredentials.
import type { Payload } from '@temporalio/common';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import { keyringFor } from '../../lib/crypto/keyring';
import { EncryptionCodec } from '../../lib/temporal/encryption-codec';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const payloadsBody = z
  .object({
    payloads: z.array(z.object({ metadata: z.record(base64).optional(), data: base64.optional() }).strict()).max(1000),
  })
  .strict();
type JsonPayloads = z.output<typeof payloadsBody>['payloads'];
// Temporal UI asks for /codec/decode?preserveStorageRefs=true: payloads kept in external storage
// stay references. This codec has no external storage, so the answer is the same either way, but
// the parameter is declared: every route refuses parameters it does not take.
const codecQuery = z
  .object({
    preserveStorageRefs: z
      .enum(['true', 'false'])
      .optional()
      .describe('Sent by Temporal UI; this codec keeps no payloads in external storage, so it changes nothing'),
  })
  .strict();

const fromJson = (payloads: JsonPayloads): Payload[] =>
  payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));

const toJson = (payloads: Payload[]): JsonPayloads =>
  payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  }));

/** Origins of the embedded Temporal UI, which calls the codec from the browser. */
export function codecOrigins(cfg: Pick<Config, 'TEMPORAL_UI_PORT'>): string[] {
  return [`http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`, `http://localhost:${cfg.TEMPORAL_UI_PORT}`];
}

export function codecCors(cfg: Pick<Config, 'TEMPORAL_UI_PORT'>): RequestHandler {
  const allowed = new Set(codecOrigins(cfg));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') res.status(204).end();
    else next();
  };
}

export function codecRoutes(ctx: ApiContext): RouteDef[] {
  // Display only: Temporal UI may show payloads sent in clear (which the workers refuse).
  const codec = keyringFor(ctx.cfg).then((keyring) => new EncryptionCodec(keyring, { acceptPlaintext: true }));
  const route = (op: 'encode' | 'decode'): RouteDef =>
    defineRoute({
      method: 'post',
      path: `/codec/${op}`,
      operationId: `codec${op[0].toUpperCase()}${op.slice(1)}`,
      summary: `${op === 'decode' ? 'Decrypt' : 'Encrypt'} Temporal payloads (remote codec for Temporal UI and CLI)`,
      tag: 'codec',
      permission: 'read',
      sessionCookie: true,
      query: codecQuery,
      body: payloadsBody,
      responses: { 200: { description: 'The payloads, transformed', schema: payloadsBody } },
      handler: async ({ body: { payloads } }, _req, res) => {
        const c = await codec;
        res.json({ payloads: toJson(await c[op](fromJson(payloads))) });
      },
    });
  return [route('encode'), route('decode')];
}

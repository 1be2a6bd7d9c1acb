// api/server.ts: the admin token from the data dir works, and a graceful stop lets an
// in-flight request finish while new connections are refused.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startServer } from '../../../api/server';
import { silentLogger } from '../../../lib/telemetry/logger';
import { apiTestConfig } from './helpers';

it('bootstraps the admin token and drains in-flight requests on stop', async () => {
  const cfg = { ...apiTestConfig({ MLOPS_ADMIN_TOKEN: '' }), MLOPS_API_PORT: 0 };
  const running = await startServer(cfg, { log: silentLogger, graceMs: 5_000 });
  const token = (await fs.readFile(path.join(cfg.dataDir, 'admin-token'), 'utf8')).trim();
  const who = await fetch(`${running.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  expect(await who.json()).toMatchObject({ tokenId: 'tok_admin', role: 'admin' });

  // A request whose body is still arriving when stop() begins.
  let push!: (chunk: string | null) => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => (chunk === null ? controller.close() : controller.enqueue(new TextEncoder().encode(chunk)));
    },
  });
  const inflight = fetch(`${running.url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    duplex: 'half',
  } as RequestInit);
  push('{"name":"drain-check",');
  await new Promise((r) => setTimeout(r, 200));
  const stopped = running.stop();
  await new Promise((r) => setTimeout(r, 200));
  await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  push('"role":"viewer"}');
  push(null);
  const res = await inflight;
  expect(res.status).toBe(201);
  expect(res.headers.get('connection')).toBe('close');
  await stopped;
}, 60_000);

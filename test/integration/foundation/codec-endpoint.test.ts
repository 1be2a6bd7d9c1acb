// Payload encryption seen from outside: the raw server shows only ciphertext, and the API's
// codec endpoint shows clear text to an authenticated reader only (a bearer token, or the
// session cookie of a browser signed in at /v1/session).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { startTestApi, type TestApi } from '../api/helpers';
import { runStoreRoundTrip } from '../harness/env';
import { HARNESS } from '../harness/state';

const run = promisify(execFile);
const ENCRYPTED = Buffer.from('binary/encrypted').toString('base64');

/** The history JSON with every payload's base64 `data` decoded, so clear text can be searched. */
function payloadText(historyJson: string): string {
  const found: string[] = [];
  JSON.parse(historyJson, (key, value) => {
    if (key === 'data' && typeof value === 'string') found.push(Buffer.from(value, 'base64').toString('latin1'));
    return value;
  });
  return found.join('\n');
}

describe('payload encryption and the codec endpoint', () => {
  let api: TestApi;
  const secret = `top-secret-${randomUUID()}`;
  const workflowId = `codec-${randomUUID()}`;

  beforeAll(async () => {
    api = await startTestApi();
    const { result } = await runStoreRoundTrip(api.cfg, api.store.db, workflowId, workflowId, secret);
    expect(result).toBe(secret);
  });
  afterAll(() => api?.close());

  const show = (...extra: string[]) =>
    run(process.env[HARNESS.temporalBin]!, [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--address',
      api.cfg.TEMPORAL_ADDRESS,
      '--output',
      'json',
      ...extra,
    ]);

  it('stores only ciphertext on the Temporal server', async () => {
    const { stdout } = await show();
    expect(payloadText(stdout)).not.toContain(secret);
    expect(stdout).toContain(ENCRYPTED);
  });

  it('decodes for an authenticated reader through the codec endpoint', async () => {
    const { stdout } = await show(
      '--codec-endpoint',
      `${api.url}/codec`,
      '--codec-auth',
      `Bearer ${api.tokens.viewer}`
    );
    expect(payloadText(stdout)).toContain(secret);
    expect(stdout).not.toContain(ENCRYPTED);
  });

  it('decodes nothing without a token', async () => {
    const res = await fetch(`${api.url}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(res.status).toBe(401);
    const outcome = await show('--codec-endpoint', `${api.url}/codec`).then(
      (r) => payloadText(r.stdout),
      (err: Error) => err.message
    );
    expect(outcome).not.toContain(secret);
  });

  it('decodes for a browser signed in at /v1/session by its cookie alone, which opens no other route', async () => {
    const signIn = await fetch(`${api.url}/v1/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    expect(signIn.status).toBe(200);
    const setCookie = signIn.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mlops_session=[^;]+; Path=\/codec; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const cookie = setCookie.split(';')[0];
    const history = JSON.parse((await show()).stdout);
    // As Temporal UI calls it: with its preserveStorageRefs parameter.
    const decode = (headers: Record<string, string>) =>
      fetch(`${api.url}/codec/decode?preserveStorageRefs=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ payloads: history.events[0].workflowExecutionStartedEventAttributes.input.payloads }),
      });
    const decoded = await decode({ cookie });
    expect(decoded.status).toBe(200);
    expect(payloadText(await decoded.text())).toContain(secret);
    expect((await decode({ cookie: 'mlops_session=mlops_not-a-token' })).status).toBe(401);
    expect((await fetch(`${api.url}/v1/runs`, { headers: { cookie } })).status).toBe(401);

    const signOut = await fetch(`${api.url}/v1/session`, { method: 'DELETE' });
    expect(signOut.status).toBe(204);
    expect(signOut.headers.get('set-cookie')).toMatch(/^mlops_session=; Path=\/codec; .*Max-Age=0$/);
  });

  it('answers CORS preflights for the Temporal UI origin only', async () => {
    const ui = `http://127.0.0.1:${api.cfg.TEMPORAL_UI_PORT}`;
    const preflight = (origin: string) =>
      fetch(`${api.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const ok = await preflight(ui);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ui);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// Temporal UI as a person uses it, in a real browser (headless Chromium): on the embedded
// stack, a browser signed in at the API's /v1/session reads a workflow's decoded input on
// its page in Temporal UI; a browser that did not sign in sees only ciphertext there.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { HARNESS } from '../harness/state';
import { Browser, chromiumPath } from './browser';
import { adminToken, descendants, npmStart, signalGroup, stackEnv, survivors } from '../../../tools/stack/observe';

describe('Temporal UI of the embedded stack', () => {
  it('shows decoded payloads to a signed-in browser only', async () => {
    expect(chromiumPath()).toMatch(/chromium/); // .ci/run installs it: apt-get install chromium
    const env = await stackEnv({ MLOPS_GPU_WORKERS: '0', MLOPS_CPU_WORKERS: '0' });
    const api = `http://127.0.0.1:${env.MLOPS_API_PORT}`;
    const stack = npmStart(env);
    const browser = new Browser();
    try {
      await stack.waitForLine(/\[stack\] press Ctrl-C to stop/, 240_000);
      expect(stack.tail()).toContain(
        `Temporal UI    http://127.0.0.1:${env.TEMPORAL_UI_PORT}  (sign in first to read decoded payloads: ${api}/v1/session)`
      );
      const token = adminToken(env);
      // The model name travels encrypted: the CLI encodes the input through the API's codec.
      const model = `ui-model-${randomUUID().slice(0, 8)}`;
      const workflowId = `ui-check-${randomUUID().slice(0, 8)}`;
      const started = execFileSync(
        process.env[HARNESS.temporalBin]!,
        [
          ...['workflow', 'start', '--type', 'uiCheck', '--task-queue', 'nobody', '--workflow-id', workflowId],
          ...['--input', JSON.stringify({ model }), '--address', env.TEMPORAL_ADDRESS, '--output', 'json'],
          ...['--codec-endpoint', `${api}/codec`, '--codec-auth', `Bearer ${token}`],
        ],
        { encoding: 'utf8' }
      );
      const runPage = `http://127.0.0.1:${env.TEMPORAL_UI_PORT}/namespaces/default/workflows/${workflowId}/${JSON.parse(started).runId}/history`;
      const pageText = "document.body ? document.body.innerText : ''";

      const signedIn = await browser.newPage();
      await signedIn.goto(`${api}/v1/session`);
      await signedIn.waitFor("!!document.getElementById('token')", 30_000, 'the sign-in form');
      await signedIn.evaluate(
        `document.getElementById('token').value = ${JSON.stringify(token)}; document.getElementById('signin').requestSubmit(); true`
      );
      await signedIn.waitFor(
        "document.getElementById('result').textContent.startsWith('Signed in as admin')",
        30_000,
        'signing in'
      );
      await signedIn.goto(runPage);
      await signedIn.waitFor(`(${pageText}).includes(${JSON.stringify(model)})`, 90_000, 'the decoded model name');

      const anonymous = await browser.newPage();
      await anonymous.goto(runPage);
      await anonymous.waitFor(`(${pageText}).includes('Codec Server could not connect')`, 90_000, 'the codec failure');
      await anonymous.waitFor(`(${pageText}).includes('Input')`, 30_000, 'the input panel');
      expect(await anonymous.evaluate<string>(pageText)).not.toContain(model);
    } finally {
      // The stack is stopped whatever the browser does: a leaked stack would keep jest from exiting.
      await browser.close().catch((err: unknown) => console.error(`browser close: ${(err as Error).message}`));
      const tree = descendants(stack.proc.pid!).map((p) => p.pid);
      signalGroup(stack, 'SIGINT');
      await stack.exited;
      expect(await survivors(tree)).toEqual([]);
    }
  }, 600_000);
});

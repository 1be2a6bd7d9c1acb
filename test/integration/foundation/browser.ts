// A real browser for tests: headless Chromium (Debian's package) driven over the DevTools
// protocol on a pipe (--remote-debugging-pipe: commands on fd 3, events and answers on
// fd 4, each message ending in NUL), so no websocket client is needed. Each page gets its
// own browser context, i.e. its own cookie jar: one signed in, one not.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const chromiumPath = (): string =>
  execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();

export interface Page {
  /** Navigates and waits until the new document has loaded (`Page.navigate` answers on commit). */
  goto(url: string): Promise<void>;
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; rejects with `what` after timeoutMs. */
  waitFor(expression: string, timeoutMs: number, what: string): Promise<void>;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly profile = mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  private readonly proc: ChildProcess;

  constructor() {
    this.proc = spawn(
      chromiumPath(),
      [
        '--headless=new',
        '--no-sandbox', // Tests run as root in CI containers.
        '--disable-gpu',
        '--no-first-run',
        '--remote-debugging-pipe',
        `--user-data-dir=${this.profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] }
    );
    let buffered = '';
    (this.proc.stdio[4] as Readable).on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\0')) >= 0) {
        const msg = JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        const waiter = msg.id !== undefined && this.pending.get(msg.id);
        if (!waiter) continue;
        this.pending.delete(msg.id);
        if (msg.error) waiter.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else waiter.resolve(msg.result);
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** A tab in a fresh browser context (no cookies shared with other pages). */
  async newPage(): Promise<Page> {
    const { browserContextId } = await this.send('Target.createBrowserContext');
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const evaluate = async <T>(expression: string): Promise<T> => {
      const { result, exceptionDetails } = await this.send(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId
      );
      if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? 'failed'}`);
      return result.value as T;
    };
    const waitFor = async (expression: string, timeoutMs: number, what: string): Promise<void> => {
      const until = Date.now() + timeoutMs;
      while (!(await evaluate(expression).catch(() => false))) {
        if (Date.now() > until) throw new Error(`browser: ${what} did not happen within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    return {
      goto: async (url) => {
        const { errorText } = await this.send('Page.navigate', { url }, sessionId);
        if (errorText) throw new Error(`browser: ${url}: ${errorText}`);
        await waitFor("document.readyState === 'complete'", 60_000, `the load of ${url}`);
      },
      evaluate,
      waitFor,
    };
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
    // Chromium's helper processes may still be writing the profile for a moment after the kill.
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

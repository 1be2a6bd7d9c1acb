// Runs a provisioning command, printing a progress line every few seconds so that a
// multi-minute Go build never looks hung, and keeping its output for the error message.
import { spawn, spawnSync } from 'node:child_process';

export type Log = (line: string) => void;

export class ProvisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export function tryRun(cmd: string, args: string[]): string | undefined {
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (res.error || res.status !== 0) return undefined;
  return `${res.stdout}${res.stderr}`;
}

export async function runWithProgress(
  label: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; log: Log }
): Promise<void> {
  const started = Date.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setInterval(
    () => opts.log(`${label}: still working (${Math.round((Date.now() - started) / 1000)} s)`),
    15_000
  );
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new ProvisionError(`${label} failed (exit ${code}) running: ${cmd} ${args.join(' ')}\n${output.trim()}`);
    }
    opts.log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    clearInterval(timer);
  }
}

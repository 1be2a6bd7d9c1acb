import { rmSync } from 'node:fs';
import { HARNESS, harnessState } from './state';

export default async function globalTeardown(): Promise<void> {
  const state = harnessState();
  await Promise.all(state.children.map((c) => c.stop(5_000)));
  state.serverLog?.end();
  const dir = process.env[HARNESS.dir];
  if (dir && !process.env.MLOPS_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
}

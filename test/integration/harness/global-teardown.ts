import { rmSync } from 'node:fs';
import { HARNESS, harnessState } from './state';

export default async function globalTeardown(): Promise<void> {
  await harnessState().servers?.stop();
  const dir = process.env[HARNESS.dir];
  if (dir && !process.env.MLOPS_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
}

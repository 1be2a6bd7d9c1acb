import type { WriteStream } from 'node:fs';
import type { Child } from '../../../tools/stack/child';

/** Env variables through which the global setup hands addresses to test files. */
export const HARNESS = {
  dir: 'MLOPS_TEST_DIR',
  temporal: 'MLOPS_TEST_TEMPORAL_ADDRESS',
  mongo: 'MLOPS_TEST_MONGODB_URI',
  bundle: 'MLOPS_TEST_WORKFLOW_BUNDLE',
  fixtureBundle: 'MLOPS_TEST_FIXTURE_BUNDLE',
  temporalBin: 'MLOPS_TEST_TEMPORAL_BIN',
} as const;

interface State {
  children: Child[];
  serverLog?: WriteStream;
}

/** Global setup and teardown run in the same process; they share the children here. */
export function harnessState(): State {
  const g = globalThis as unknown as { __mlopsHarness?: State };
  g.__mlopsHarness ??= { children: [] };
  return g.__mlopsHarness;
}

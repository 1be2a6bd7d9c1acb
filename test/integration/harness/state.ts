import type { EmbeddedServers } from '../../../tools/stack/services';

/** Env variables through which the global setup hands addresses to test files. */
export const HARNESS = {
  dir: 'MLOPS_TEST_DIR',
  temporal: 'MLOPS_TEST_TEMPORAL_ADDRESS',
  mongo: 'MLOPS_TEST_MONGODB_URI',
  bundle: 'MLOPS_TEST_WORKFLOW_BUNDLE',
  fixtureBundle: 'MLOPS_TEST_FIXTURE_BUNDLE',
  temporalBin: 'MLOPS_TEST_TEMPORAL_BIN',
} as const;

/** Global setup and teardown run in the same process; they share the servers here. */
export function harnessState(): { servers?: EmbeddedServers } {
  const g = globalThis as unknown as { __mlopsHarness?: { servers?: EmbeddedServers } };
  g.__mlopsHarness ??= {};
  return g.__mlopsHarness;
}

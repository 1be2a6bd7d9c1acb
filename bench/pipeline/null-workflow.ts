// Bench-only workflow: a chain of no-op activities on another task queue, the platform's floor
// for one orchestrated step (no I/O, no payload to speak of). Bundled by overhead.ts only.
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { STAGE } from '../../lib/workflow-safe/search-attributes';

export async function nullChain(input: { steps: number; queue: string; searchAttributes: boolean }): Promise<number> {
  const { noop } = proxyActivities<{ noop(i: number): Promise<number> }>({
    taskQueue: input.queue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  let sum = 0;
  for (let i = 0; i < input.steps; i++) {
    if (input.searchAttributes) upsertSearchAttributes([{ key: STAGE, value: `step-${i}` }]);
    sum += await noop(i);
  }
  return sum;
}

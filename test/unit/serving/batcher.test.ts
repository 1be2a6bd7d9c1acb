// Dynamic batching (serving/batcher.ts): requests queued while a run is in flight go together in
// the next run, up to maxRows, each caller gets exactly its own result, a request larger than
// maxRows runs alone, a failed run fails each of its callers, and a lone request never waits.
import { Batcher } from '../../../serving/batcher';

/** A run whose completion the test controls; records the batches it was given. */
function controlledRun() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  let fail = false;
  const run = (inputs: number[]) => {
    batches.push(inputs);
    return new Promise<number[]>((resolve, reject) =>
      pending.push(() => (fail ? reject(new Error('ort failed')) : resolve(inputs.map((x) => x * 10))))
    );
  };
  return {
    run,
    batches,
    finishNext: async () => {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    },
    failNext() {
      fail = true;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

it('runs a lone request at once and coalesces the ones that arrive meanwhile', async () => {
  const c = controlledRun();
  const b = new Batcher<number, number>(c.run, { maxRows: 8, delayMs: 0 });
  const first = b.submit(1, 1);
  await tick();
  expect(c.batches).toEqual([[1]]);
  const rest = [2, 3, 4].map((x) => b.submit(x, 2));
  await tick();
  expect(c.batches).toEqual([[1]]); // queued behind the run in flight
  await c.finishNext();
  expect(await first).toBe(10);
  expect(c.batches).toEqual([[1], [2, 3, 4]]);
  await c.finishNext();
  expect(await Promise.all(rest)).toEqual([20, 30, 40]);
});

it('caps a batch at maxRows of whole requests; a larger request runs alone', async () => {
  const c = controlledRun();
  const b = new Batcher<number, number>(c.run, { maxRows: 4, delayMs: 0 });
  const all = [b.submit(0, 1)];
  await tick();
  all.push(b.submit(1, 3), b.submit(2, 2), b.submit(3, 9), b.submit(4, 1));
  for (let i = 0; i < 5; i++) await c.finishNext();
  // 3 + 2 rows exceed 4, 9 rows run alone, and the last one follows.
  expect(c.batches).toEqual([[0], [1], [2], [3], [4]]);
  expect(await Promise.all(all)).toEqual([0, 10, 20, 30, 40]);
});

it('fills a batch up to maxRows when requests are small', async () => {
  const c = controlledRun();
  const b = new Batcher<number, number>(c.run, { maxRows: 4, delayMs: 0 });
  const all = [b.submit(0, 1)];
  await tick();
  for (let i = 1; i <= 6; i++) all.push(b.submit(i, 1));
  await c.finishNext();
  await c.finishNext();
  await c.finishNext();
  expect(c.batches).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
  expect(await Promise.all(all)).toEqual([0, 10, 20, 30, 40, 50, 60]);
});

it('waits delayMs for company when configured', async () => {
  const c = controlledRun();
  const b = new Batcher<number, number>(c.run, { maxRows: 8, delayMs: 20 });
  const a = b.submit(1, 1);
  const d = b.submit(2, 1);
  await tick();
  expect(c.batches).toEqual([]);
  await new Promise((r) => setTimeout(r, 40));
  expect(c.batches).toEqual([[1, 2]]);
  await c.finishNext();
  expect(await Promise.all([a, d])).toEqual([10, 20]);
});

it('fails every caller of a failed run, and keeps serving', async () => {
  const c = controlledRun();
  const b = new Batcher<number, number>(c.run, { maxRows: 8, delayMs: 0 });
  const first = b.submit(1, 1);
  await tick();
  const second = b.submit(2, 1);
  const third = b.submit(3, 1);
  await c.finishNext();
  await first;
  c.failNext();
  const settled = Promise.allSettled([second, third]);
  await c.finishNext();
  expect((await settled).map((s) => s.status === 'rejected' && (s.reason as Error).message)).toEqual([
    'ort failed',
    'ort failed',
  ]);
});

// Port blocks for tests that start the whole stack: its workers take consecutive metrics ports
// (two each, counting up from MLOPS_WORKER_METRICS_PORT), which listen(0) cannot hand out. Blocks
// come from 10000-32767, below Linux's ephemeral range (32768+), so an OS-assigned port elsewhere
// cannot take one between the check and the stack's start, and every port is checked free.
import net from 'node:net';

const LOW = 10_000;
const HIGH = 32_768;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port of `count` consecutive free ports. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${LOW} and ${HIGH}`);
}

import net from 'node:net';

/** Rejects with a message naming the port and the variable that changes it. */
export async function assertPortFree(host: string, port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `Port ${port} on ${host} is already in use. Stop what holds it, or set ${variable} to use another port.`
            : `Cannot listen on ${host}:${port} (${err.code}); check ${variable}.`
        )
      )
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Whether `port` can be listened on now. */
function isFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

// Below Linux's ephemeral range (32768+): an OS-assigned port elsewhere (a client's outgoing
// connection, another test's listen(0)) cannot take one between the check and the stack's start.
const BLOCK_LOW = 10_000;
const BLOCK_HIGH = 32_768;

/**
 * The first of `count` consecutive free ports, for the stack's workers, which take consecutive
 * metrics ports (two each, counting up from MLOPS_WORKER_METRICS_PORT) that listen(0) cannot hand out.
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = BLOCK_LOW + Math.floor(Math.random() * (BLOCK_HIGH - BLOCK_LOW - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${BLOCK_LOW} and ${BLOCK_HIGH}`);
}

/** A port the OS says is free now (for tests; a race with other processes is possible but rare). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function splitHostPort(address: string): { host: string; port: number } {
  const idx = address.lastIndexOf(':');
  return { host: address.slice(0, idx), port: Number(address.slice(idx + 1)) };
}

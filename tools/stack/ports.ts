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

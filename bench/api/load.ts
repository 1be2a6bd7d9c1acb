// A small closed-loop load generator: `concurrency` clients each send the next request as
// soon as the previous one answers, for `durationMs`. Latency is measured per request
// (send to full body read) with hrtime.
import http from 'node:http';

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export async function runLoad(opts: {
  name: string;
  baseUrl: string;
  token: string;
  concurrency: number;
  durationMs: number;
  /** Path for the i-th request (lets a scenario vary ids or filters). */
  path: (i: number) => string;
  /** JSON body of the i-th request; given, requests are POSTs. */
  body?: (i: number) => string;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const url = new URL(opts.baseUrl);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let counter = 0;
  const started = Date.now();
  const deadline = started + opts.durationMs;
  const one = (path: string, body: string | undefined) =>
    new Promise<number>((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path,
          agent,
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${opts.token}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            resolve(res.statusCode ?? 0);
          });
        }
      );
      req.on('error', () => {
        errors++;
        resolve(0);
      });
      req.end(body);
    });
  const client = async () => {
    while (Date.now() < deadline) {
      const i = counter++;
      const status = await one(opts.path(i), opts.body?.(i));
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, client));
  agent.destroy();
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name: opts.name,
    requests: latencies.length,
    errors,
    statuses,
    rps: round(latencies.length / elapsed),
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies[latencies.length - 1] ?? NaN),
    mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
  };
}

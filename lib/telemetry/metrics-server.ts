// A bare /metrics endpoint for processes without Express (the workers).
import http from 'node:http';
import type { Registry } from 'prom-client';

export function serveMetrics(registry: Registry, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end()
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`Worker metrics port ${port} is unavailable (${err.code}); set MLOPS_WORKER_METRICS_PORT.`))
    );
    server.listen(port, host, () => resolve(server));
  });
}

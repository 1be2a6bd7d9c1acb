// The embedded Temporal UI's front door (TEMPORAL_UI_PORT): it forwards /codec/* to the API
// and everything else to the Temporal UI on an internal port. Why: the dev server's UI calls
// its codec without credentials (`temporal server start-dev` cannot set the UI's
// codec.includeCredentials), and a browser sends cookies on such a call only to the page's
// own origin. Served from the UI's origin, the codec receives the HttpOnly session cookie
// that the API's sign-in page (/v1/session) set for this host, so a signed-in person reads
// decoded payloads and anyone else sees ciphertext. It runs in the launcher, so it stays up
// while the Temporal dev server restarts.
import http from 'node:http';

export interface UiFront {
  close(): Promise<void>;
}

function forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL): void {
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    }
  );
  upstream.on('error', () => {
    if (res.headersSent) res.destroy();
    else res.writeHead(502, { 'content-type': 'text/plain' }).end(`${target.host} is not answering; retry shortly.\n`);
  });
  req.pipe(upstream);
}

export async function startUiFront(opts: {
  host: string;
  port: number;
  temporalUi: string;
  api: string;
}): Promise<UiFront> {
  const [ui, api] = [new URL(opts.temporalUi), new URL(opts.api)];
  const server = http.createServer((req, res) => forward(req, res, req.url?.startsWith('/codec/') ? api : ui));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

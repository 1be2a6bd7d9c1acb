// The CLI's HTTP client: JSON in and out, bearer token, problem+json turned into an
// ApiError whose message is the problem's title and detail (what the user can act on).
import type { CliConfig } from './config';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown> | undefined,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Http {
  /** `T` is the response type the route documents (cli/api-types.ts). */
  request<T = unknown>(
    method: string,
    path: string,
    opts?: { body?: unknown; headers?: Record<string, string>; query?: Record<string, string | number | undefined> }
  ): Promise<{ status: number; headers: Headers; body: T }>;
  raw(path: string): Promise<Response>;
}

/** What the client talks to, for the can't-reach message: the API, or the inference server. */
export interface HttpTarget {
  what: string;
  variable: string;
}

export function createHttp(
  cfg: Pick<CliConfig, 'url' | 'token'>,
  fetchImpl: typeof fetch = fetch,
  target: HttpTarget = { what: 'the API', variable: 'MLOPS_API_URL' }
): Http {
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: 'application/json, application/problem+json',
    ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}),
    ...extra,
  });
  const send = async (method: string, url: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetchImpl(url, { method, ...init });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(
        0,
        undefined,
        `cannot reach ${target.what} at ${cfg.url} (${cause}); is the stack running? Set ${target.variable}.`
      );
    }
  };
  const fail = async (res: Response): Promise<never> => {
    const text = await res.text();
    let problem: Record<string, unknown> | undefined;
    try {
      problem = JSON.parse(text) as Record<string, unknown>;
    } catch {
      problem = undefined;
    }
    // problem+json from the API; {"error"} from the inference server (Open Inference Protocol).
    let message = problem?.detail
      ? `${problem.title ?? res.statusText}: ${problem.detail}`
      : typeof problem?.error === 'string'
        ? `HTTP ${res.status}: ${problem.error}`
        : `HTTP ${res.status} ${res.statusText}`;
    if (res.status === 401 && !cfg.token) {
      message += ' (no token found: set MLOPS_TOKEN, MLOPS_TOKEN_FILE or "token" in the config file)';
    }
    const errors = problem?.errors as { path: string; message: string }[] | undefined;
    if (errors && errors.length > 1) message += '\n' + errors.map((e) => `  ${e.path}: ${e.message}`).join('\n');
    throw new ApiError(res.status, problem, message);
  };
  return {
    async request(method, path, opts = {}) {
      const qs = Object.entries(opts.query ?? {})
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
      const res = await send(method, cfg.url + path + (qs ? `?${qs}` : ''), {
        headers: headers(
          opts.body !== undefined ? { 'content-type': 'application/json', ...opts.headers } : opts.headers
        ),
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      });
      if (!res.ok) return fail(res);
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async raw(path) {
      const res = await send('GET', cfg.url + path, { headers: headers() });
      if (!res.ok) return fail(res);
      return res;
    },
  };
}

// RFC 9457 problem details. Every error leaves the API as application/problem+json with
// a type, a title, the status, a detail a user can act on, and the request id; never a
// stack trace or a driver message.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../lib/telemetry/logger';

export const PROBLEM_BASE = 'https://mlops.local/problems/';

export interface FieldError {
  /** JSON path of the offending field, e.g. `dataset.path` or `query.limit`. */
  path: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  /** Short slug; the type URI is PROBLEM_BASE + slug. */
  type: string;
  title: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members added to the problem object. */
  extra?: Record<string, unknown>;
}

export class ProblemError extends Error {
  constructor(readonly problem: ProblemInit) {
    super(problem.detail);
    this.name = 'ProblemError';
  }
}

/**
 * Every problem type the API can answer, by status: the OpenAPI document lists them on each
 * response (api/routes/schemas.ts), so a client can branch on `type` from the document alone.
 */
export const PROBLEM_TYPES: Record<number, { type: string; title: string }[]> = {};

const make = (status: number, type: string, title: string) => {
  (PROBLEM_TYPES[status] ??= []).push({ type, title });
  return (detail: string, more: Omit<ProblemInit, 'status' | 'type' | 'title' | 'detail'> = {}) =>
    new ProblemError({ status, type, title, detail, ...more });
};

const unauthorized = make(401, 'unauthorized', 'Authentication required');
const tooManyRequests = make(429, 'too-many-requests', 'Too many requests');

export const problems = {
  badRequest: make(400, 'invalid-request', 'Invalid request'),
  unauthorized: (detail: string) => unauthorized(detail, { headers: { 'WWW-Authenticate': 'Bearer realm="mlops"' } }),
  forbidden: make(403, 'forbidden', 'Forbidden'),
  notFound: make(404, 'not-found', 'Not found'),
  methodNotAllowed: make(405, 'method-not-allowed', 'Method not allowed'),
  conflict: make(409, 'conflict', 'Conflict'),
  tooLarge: make(413, 'payload-too-large', 'Request body too large'),
  unsupportedMedia: make(415, 'unsupported-media-type', 'Unsupported media type'),
  unprocessable: make(422, 'unprocessable', 'Request cannot be processed'),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    tooManyRequests(detail, { headers: { 'Retry-After': String(retryAfterSeconds) } }),
  unavailable: make(503, 'unavailable', 'Service unavailable'),
  notReady: make(503, 'not-ready', 'Not ready'),
  integrity: make(500, 'integrity-error', 'Stored data failed its integrity check'),
  internal: make(500, 'internal', 'Internal server error'),
};

export function sendProblem(res: Response, init: ProblemInit): void {
  const requestId = res.locals.requestId as string | undefined;
  // Extension members first: they can never replace the standard ones.
  const body = {
    ...init.extra,
    type: PROBLEM_BASE + init.type,
    title: init.title,
    status: init.status,
    detail: init.detail,
    instance: res.req?.originalUrl?.split('?')[0],
    ...(requestId ? { requestId } : {}),
    ...(init.errors?.length ? { errors: init.errors } : {}),
  };
  for (const [k, v] of Object.entries(init.headers ?? {})) res.setHeader(k, v);
  res.status(init.status).type('application/problem+json').send(JSON.stringify(body));
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(problems.notFound(`No route ${req.method} ${req.path}. See /openapi.json for the routes.`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  length?: number;
  charset?: string;
}

/** Maps known error shapes to problems; anything unexpected is a 500 with no internals. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof ProblemError) {
      sendProblem(res, err.problem);
      return;
    }
    const bp = err as BodyParserError;
    switch (bp?.type) {
      case 'entity.too.large':
        sendProblem(
          res,
          problems.tooLarge(`The body is larger than the limit of ${bp.limit} bytes. Send a smaller body.`).problem
        );
        return;
      case 'entity.parse.failed':
        sendProblem(res, problems.badRequest('The body is not valid JSON. Check quoting and commas.').problem);
        return;
      case 'encoding.unsupported':
      case 'charset.unsupported':
        sendProblem(res, problems.unsupportedMedia('Send the body as UTF-8 JSON without content encoding.').problem);
        return;
      case 'request.aborted':
        return; // the client went away
      default:
        break;
    }
    log.error('request failed', {
      requestId: res.locals.requestId,
      method: req.method,
      path: req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    sendProblem(
      res,
      problems.internal(
        `The server failed to handle the request. Quote request id ${res.locals.requestId} when reporting it.`
      ).problem
    );
  };
}

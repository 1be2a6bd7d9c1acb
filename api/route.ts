// Routes are declared once, as data: the app mounts them (auth, role check and input parsing
// included) and the OpenAPI document is generated from the same declarations, so the document
// cannot miss a route and cannot describe inputs other than those the server accepts. A handler
// receives its path parameters, query and body already parsed by the declared zod schemas
// (`defineRoute` infers their types), so it never reads `req.params`, `req.query` or `req.body`.
import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Permission } from '../lib/auth/roles';

export type Method = 'get' | 'post' | 'put' | 'delete';

/** An OpenAPI link: an operation that uses the resource this response names. */
export interface LinkDoc {
  operationId: string;
  /** Parameter name -> runtime expression, e.g. `$response.body#/runId`. */
  parameters: Record<string, string>;
  description?: string;
}

export interface ResponseDoc {
  description: string;
  /** The body; for JSON this is also the type the CLI reads (z.infer of it). */
  schema?: z.ZodTypeAny;
  contentType?: string;
  headers?: Record<string, string>;
  links?: Record<string, LinkDoc>;
}

export interface HeaderDoc {
  name: string;
  description: string;
  required?: boolean;
  pattern?: string;
}

/** What a handler gets: the parsed path parameters, query and body. */
export interface RouteInput<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
}

type Parsed<S> = S extends z.ZodTypeAny ? z.output<S> : undefined;

interface RouteBase {
  method: Method;
  /** Express path, e.g. `/v1/runs/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** null = no token needed (health only). */
  permission: Permission | null;
  /** Also accept the session cookie of POST /v1/session (routes a browser calls: the codec). */
  sessionCookie?: boolean;
  /** The body may be left out; the handler then gets the body schema's parse of `{}`. */
  bodyOptional?: boolean;
  /**
   * A JSON body the handler reads as raw bytes (a webhook: its signature covers them), which the
   * mount loop leaves alone: documented as the request body, refused (415) by the handler.
   */
  rawJsonBody?: { description: string };
  /** Extra request headers documented, e.g. Idempotency-Key. */
  headers?: HeaderDoc[];
  /**
   * The route's own answers: its success responses and the domain problems its handler raises
   * (404, 409, 422, 503 ...). The problems the mount loop raises (400, 401, 403, 413, 415, 429)
   * are added to the document from the declaration (see openapi.ts).
   */
  responses: Record<number, ResponseDoc>;
}

export interface RouteSpec<
  P extends z.AnyZodObject | undefined,
  Q extends z.ZodTypeAny | undefined,
  B extends z.ZodTypeAny | undefined,
> extends RouteBase {
  /** One schema per `:name` in the path (strings in, anything out: transforms allowed). */
  params?: P;
  /** A strict object schema of the query string (values arrive as strings). */
  query?: Q;
  body?: B;
  handler(input: RouteInput<Parsed<P>, Parsed<Q>, Parsed<B>>, req: Request, res: Response): Promise<void> | void;
}

/** A declared route with its input types erased (what the app mounts and documents). */
export interface RouteDef extends RouteBase {
  params?: z.AnyZodObject;
  query?: z.ZodTypeAny;
  body?: z.ZodTypeAny;
  handler(input: RouteInput, req: Request, res: Response): Promise<void> | void;
}

/** Declares a route; the handler's `input` is typed from the params, query and body schemas. */
export function defineRoute<
  P extends z.AnyZodObject | undefined = undefined,
  Q extends z.ZodTypeAny | undefined = undefined,
  B extends z.ZodTypeAny | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): RouteDef {
  return spec as unknown as RouteDef;
}

/** Parses the input with `parse`, then runs the handler; a rejection or throw reaches the error handler. */
export function routeHandler(route: RouteDef, parse: (route: RouteDef, req: Request) => RouteInput): RequestHandler {
  return (req, res, next) => {
    try {
      const r = route.handler(parse(route, req), req, res);
      if (r && typeof r.then === 'function') r.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** `/v1/runs/:id` -> `/v1/runs/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

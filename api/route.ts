// Routes are declared once, as data: the app mounts them (auth and role check included)
// and the OpenAPI document is generated from the same declarations, so the document
// cannot miss a route.
import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Permission } from '../lib/auth/roles';
import type { JsonSchema } from './zod-json-schema';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface ResponseDoc {
  description: string;
  /** JSON Schema of the body, or a zod schema converted for the document. */
  schema?: JsonSchema | z.ZodTypeAny;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ParamDoc {
  name: string;
  description: string;
  pattern?: string;
  type?: 'string' | 'integer';
}

export interface RouteDef {
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
  params?: ParamDoc[];
  query?: z.ZodTypeAny;
  body?: z.ZodTypeAny;
  /** Extra request headers documented, e.g. Idempotency-Key. */
  headers?: { name: string; description: string; required?: boolean; pattern?: string }[];
  responses: Record<number, ResponseDoc>;
  handler: (req: Request, res: Response) => Promise<void> | void;
}

/** Wraps an async handler so a rejection reaches the error handler. */
export function asyncHandler(fn: RouteDef['handler']): RequestHandler {
  return (req, res, next) => {
    try {
      const r = fn(req, res);
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** `/v1/runs/:id` -> `/v1/runs/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

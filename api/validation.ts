// Input checks shared by every route: JSON shape limits (depth, keys, array lengths,
// string sizes), refusal of Mongo operator and prototype keys anywhere in a body, strict
// zod parsing of a route's declared params, query and body with field paths in the problem,
// and the schemas routes declare them with (ids, versions, limits, dates, cursors).
import type { Request } from 'express';
import { z } from 'zod';
import { FieldError, problems } from './errors';
import type { RouteDef, RouteInput } from './route';
import { documented, toJsonSchema, type JsonSchema } from './zod-json-schema';

export interface ShapeLimits {
  maxDepth: number;
  maxKeys: number;
  maxArrayLength: number;
  maxStringLength: number;
}

export const DEFAULT_SHAPE_LIMITS: ShapeLimits = {
  maxDepth: 16,
  maxKeys: 2_000,
  maxArrayLength: 10_000,
  maxStringLength: 64 * 1024,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws a 400 (or 413 for size caps) naming the first offending path. */
export function checkJsonShape(value: unknown, limits: ShapeLimits = DEFAULT_SHAPE_LIMITS): void {
  let keys = 0;
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > limits.maxDepth) {
      throw problems.tooLarge(`The body nests deeper than ${limits.maxDepth} levels at ${path || '(root)'}.`);
    }
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) {
        throw problems.tooLarge(`${path || '(root)'} is longer than ${limits.maxStringLength} characters.`);
      }
      return;
    }
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) {
        throw problems.tooLarge(`${path || '(root)'} has more than ${limits.maxArrayLength} items.`);
      }
      v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const where = path ? `${path}.${k}` : k;
        if (++keys > limits.maxKeys) throw problems.tooLarge(`The body has more than ${limits.maxKeys} keys.`);
        if (k.startsWith('$') || FORBIDDEN_KEYS.has(k) || k.includes('\0')) {
          throw problems.badRequest(`Field name ${JSON.stringify(k)} at ${where} is not allowed.`, {
            errors: [{ path: where, message: 'keys may not start with $ or name an object prototype' }],
          });
        }
        walk(child, where, depth + 1);
      }
    }
  };
  walk(value, '', 0);
}

export function zodErrors(err: z.ZodError, prefix = ''): FieldError[] {
  return err.issues.slice(0, 20).map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field(s): ${i.keys.join(', ')}`;
    return { path: path || '(root)', message };
  });
}

function describe(errors: FieldError[]): string {
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem(s), see errors)` : '';
  return `${first.path}: ${first.message}${more}`;
}

function parsed<S extends z.ZodTypeAny>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = zodErrors(result.error, prefix);
    throw problems.badRequest(describe(errors), { errors });
  }
  return result.data;
}

/** A JSON body, shape-checked (depth, keys, sizes, operator keys), or a 415 when it is not JSON. */
function parseBody(route: RouteDef, schema: z.ZodTypeAny, req: Request): unknown {
  const sent = req.headers['content-length'] !== '0' && Boolean(req.is('application/json'));
  if (!sent && route.bodyOptional) return parsed(schema, {}, 'body');
  if (req.body === undefined || !req.is('application/json')) {
    throw problems.unsupportedMedia('Send a JSON body with Content-Type: application/json.');
  }
  checkJsonShape(req.body);
  return parsed(schema, req.body, 'body');
}

/** The query parameter names a route takes (its query schema's properties; none without one). */
const queryNames = new WeakMap<RouteDef, Set<string>>();
function namesOf(route: RouteDef): Set<string> {
  let names = queryNames.get(route);
  if (!names) {
    const js = route.query ? (toJsonSchema(route.query) as { properties?: Record<string, unknown> }) : {};
    names = new Set(Object.keys(js.properties ?? {}));
    queryNames.set(route, names);
  }
  return names;
}

/**
 * One rule for every route, with a query schema or without: a parameter it does not take is a
 * 400 naming it (a misspelt `limt=` silently ignored would return the wrong page). Query strings
 * are parsed with the "simple" parser (no nested objects), so values are strings or arrays.
 */
function parseQuery(route: RouteDef, req: Request): unknown {
  const raw = req.query as Record<string, unknown>;
  const names = namesOf(route);
  const unknown = Object.keys(raw).filter((k) => !names.has(k));
  if (unknown.length) {
    const takes = names.size ? `it takes: ${[...names].join(', ')}` : 'it takes none';
    const message = `unknown query parameter(s): ${unknown.join(', ')}`;
    throw problems.badRequest(`query: ${message} (${takes}).`, { errors: [{ path: 'query', message }] });
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw problems.badRequest(`Query parameter ${k} is given more than once; give it once.`, {
        errors: [{ path: `query.${k}`, message: 'repeated parameter' }],
      });
    }
  }
  return route.query ? parsed(route.query, raw, 'query') : undefined;
}

/** The route's input, parsed by its declared schemas: path parameters, then query, then body. */
export function parseRequest(route: RouteDef, req: Request): RouteInput {
  return {
    params: route.params ? parsed(route.params, req.params, 'path') : undefined,
    query: parseQuery(route, req),
    body: route.body ? parseBody(route, route.body, req) : undefined,
  };
}

export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const ALIAS_RE = /^[a-z][a-z0-9_-]{0,31}$/;
export const TOKEN_ID_RE = /^tok_[A-Za-z0-9_-]{1,40}$/;

/** Path parameter schemas: what a `:name` in a route path may be. */
export const param = {
  /** An id matching `re` and never containing `..` (the lookahead puts that rule in the pattern itself). */
  id: (re: RegExp, what: string) => {
    const safe = new RegExp(`^(?!.*\\.\\.)${re.source.replace(/^\^/, '')}`);
    return z.string().regex(safe, `must match ${safe.source}`).describe(what);
  },
  /** A version number: 1 to 999999999, digits only. */
  version: () =>
    z
      .string()
      .regex(/^[1-9][0-9]{0,8}$/, 'a positive integer (at most 9 digits)')
      .transform(Number)
      .describe('Version number'),
};

const CURSOR_RE = /^[A-Za-z0-9_-]+$/;

/** Query helpers: everything arrives as a string. */
export const q = {
  limit: (max = 100, dflt = 20) =>
    documented(
      z
        .string()
        .regex(/^[0-9]{1,4}$/, 'an integer')
        .transform(Number)
        .pipe(z.number().int().min(1, 'at least 1').max(max, `at most ${max}`))
        .optional()
        .transform((v) => v ?? dflt),
      () => ({ type: 'integer', minimum: 1, maximum: max, default: dflt })
    ),
  date: () =>
    documented(
      z
        .string()
        .max(40)
        .refine((s) => !Number.isNaN(Date.parse(s)), 'an RFC 3339 date-time, e.g. 2026-11-22T15:00:00Z')
        .transform((s) => new Date(s))
        .optional(),
      (s) => ({ ...s, format: 'date-time' })
    ),
  id: (re: RegExp = ID_RE) => z.string().regex(re, `must match ${re.source}`).optional(),
  /**
   * An opaque page cursor (a `nextCursor`), decoded to `shape`: a cursor that does not decode
   * is a 400 on query.cursor. The document says what it is: base64url of JSON of that shape.
   */
  cursor: <S extends z.ZodTypeAny>(shape: S) =>
    documented(
      z
        .string()
        .max(512)
        .regex(CURSOR_RE, 'an opaque cursor from nextCursor')
        .transform((cursor, ctx): z.output<S> => {
          const value = decodeCursor(cursor, shape);
          if (value === undefined) {
            ctx.addIssue({
              code: 'custom',
              message: 'invalid cursor: pass nextCursor from the previous page unchanged',
            });
            return z.NEVER;
          }
          return value;
        })
        .optional(),
      (s) => ({
        ...s,
        contentEncoding: 'base64url',
        contentMediaType: 'application/json',
        contentSchema: toJsonSchema(shape),
        description: 'nextCursor of the previous page, unchanged',
      })
    ),
};

/**
 * A query object whose `lo` must come before `hi` when both are given (a range), else a 400 on
 * query.<lo>. JSON Schema cannot compare two values, so the document states the rule on `lo` as
 * `x-before: <hi>` beside its description, and the contract test sends the pair reversed.
 */
export function ordered<S extends z.AnyZodObject>(schema: S, lo: string, hi: string): z.ZodEffects<S> {
  const checked = schema.superRefine((v, ctx) => {
    const a = (v as Record<string, unknown>)[lo] as Date | number | undefined;
    const b = (v as Record<string, unknown>)[hi] as Date | number | undefined;
    if (a !== undefined && b !== undefined && a >= b) {
      ctx.addIssue({ code: 'custom', path: [lo], message: `must be before ${hi}` });
    }
  });
  return documented(checked, (js) => {
    const properties = js.properties as Record<string, JsonSchema>;
    return { ...js, properties: { ...properties, [lo]: { ...properties[lo], 'x-before': hi } } };
  });
}

/**
 * One page of a list paged by position (a `{ skip }` cursor): `fetch` is asked for one item more
 * than the limit, so the page knows whether a next one exists without counting the list.
 */
export async function offsetPage<T>(
  query: { limit: number; cursor?: { skip: number } },
  fetch: (limit: number, skip: number) => Promise<T[]>
): Promise<{ items: T[]; nextCursor: string | null }> {
  const skip = query.cursor?.skip ?? 0;
  const got = await fetch(query.limit + 1, skip);
  const items = got.slice(0, query.limit);
  return { items, nextCursor: got.length > query.limit ? encodeCursor({ skip: skip + items.length }) : null };
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeCursor<S extends z.ZodTypeAny>(cursor: string, shape: S): z.output<S> | undefined {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not base64url JSON
  }
}

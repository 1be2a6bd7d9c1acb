// Input checks shared by every route: JSON shape limits (depth, keys, array lengths,
// string sizes), refusal of Mongo operator and prototype keys anywhere in a body, strict
// zod parsing with field paths in the problem, and id formats for path parameters.
import type { Request } from 'express';
import { z } from 'zod';
import { FieldError, problems } from './errors';

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

export function parseBody<S extends z.ZodTypeAny>(schema: S, req: Request): z.output<S> {
  if (req.body === undefined || !req.is('application/json')) {
    throw problems.unsupportedMedia('Send a JSON body with Content-Type: application/json.');
  }
  checkJsonShape(req.body);
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) {
    const errors = zodErrors(parsed.error, 'body');
    throw problems.badRequest(describe(errors), { errors });
  }
  return parsed.data;
}

/**
 * Query strings are parsed with the "simple" parser (no nested objects), so values are
 * strings or arrays of strings; schemas are strict, so an unknown parameter is a 400.
 */
export function parseQuery<S extends z.ZodTypeAny>(schema: S, req: Request): z.output<S> {
  const raw = req.query as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw problems.badRequest(`Query parameter ${k} is given more than once; give it once.`, {
        errors: [{ path: `query.${k}`, message: 'repeated parameter' }],
      });
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const errors = zodErrors(parsed.error, 'query');
    throw problems.badRequest(describe(errors), { errors });
  }
  return parsed.data;
}

export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const ALIAS_RE = /^[a-z][a-z0-9_-]{0,31}$/;
export const TOKEN_ID_RE = /^tok_[A-Za-z0-9_-]{1,40}$/;

export function pathParam(req: Request, name: string, re: RegExp, what: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !re.test(value) || value.includes('..')) {
    throw problems.badRequest(
      `${what} ${JSON.stringify(String(value).slice(0, 80))} is not valid: expected ${re.source}.`,
      {
        errors: [{ path: `path.${name}`, message: `must match ${re.source}` }],
      }
    );
  }
  return value;
}

export function versionParam(req: Request): number {
  const raw = req.params.version;
  if (!/^[1-9][0-9]{0,8}$/.test(raw ?? '')) {
    throw problems.badRequest(
      `Version ${JSON.stringify(String(raw).slice(0, 20))} is not valid: expected a positive integer.`,
      {
        errors: [{ path: 'path.version', message: 'positive integer' }],
      }
    );
  }
  return Number(raw);
}

/** Query helpers: everything arrives as a string. */
export const q = {
  limit: (max = 100, dflt = 20) =>
    z
      .string()
      .regex(/^[0-9]{1,4}$/, 'an integer')
      .transform(Number)
      .pipe(z.number().int().min(1, 'at least 1').max(max, `at most ${max}`))
      .optional()
      .transform((v) => v ?? dflt),
  date: () =>
    z
      .string()
      .max(40)
      .refine((s) => !Number.isNaN(Date.parse(s)), 'an RFC 3339 date-time, e.g. 2026-11-22T15:00:00Z')
      .transform((s) => new Date(s))
      .optional(),
  id: (re: RegExp = ID_RE) => z.string().regex(re, `must match ${re.source}`).optional(),
  cursor: () =>
    z
      .string()
      .max(512)
      .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from nextCursor')
      .optional(),
};

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<S extends z.ZodTypeAny>(cursor: string | undefined, schema: S): z.output<S> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw problems.badRequest('The cursor is not valid. Pass nextCursor from the previous page unchanged.', {
    errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
  });
}

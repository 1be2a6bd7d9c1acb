// The OpenAPI 3.1 document, generated from the route declarations (see route.ts).
import { rolesWith } from '../lib/auth/roles';
import { openApiPath, type ResponseDoc, type RouteDef } from './route';
import { toJsonSchema } from './zod-json-schema';
import { z } from 'zod';

function schemaOf(s: ResponseDoc['schema']): unknown {
  if (!s) return undefined;
  return s instanceof z.ZodType ? toJsonSchema(s) : s;
}

export function buildOpenApi(routes: RouteDef[], version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const p of r.params ?? []) {
      parameters.push({
        name: p.name,
        in: 'path',
        required: true,
        description: p.description,
        schema:
          p.type === 'integer'
            ? { type: 'integer', minimum: 1 }
            : { type: 'string', ...(p.pattern ? { pattern: p.pattern } : {}) },
      });
    }
    if (r.query) {
      const qs = toJsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {})) {
        parameters.push({ name, in: 'query', required: qs.required?.includes(name) ?? false, schema });
      }
    }
    for (const h of r.headers ?? []) {
      parameters.push({
        name: h.name,
        in: 'header',
        required: h.required ?? false,
        description: h.description,
        schema: { type: 'string', ...(h.pattern ? { pattern: h.pattern } : {}) },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [code, doc] of Object.entries(r.responses)) {
      const schema = schemaOf(doc.schema);
      responses[code] = {
        description: doc.description,
        ...(schema ? { content: { [doc.contentType ?? 'application/json']: { schema } } } : {}),
        ...(doc.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(doc.headers).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }])
              ),
            }
          : {}),
      };
    }
    const roles = r.permission ? rolesWith(r.permission) : [];
    paths[openApiPath(r.path)] ??= {};
    paths[openApiPath(r.path)][r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      description: [r.description, r.permission ? `Roles: ${roles.join(', ')}.` : 'No token needed.']
        .filter(Boolean)
        .join('\n\n'),
      tags: [r.tag],
      security: r.permission ? [{ bearer: [] }] : [],
      'x-roles': roles,
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(r.body) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mlops API',
      version,
      description:
        'Runs, approvals, model registry, tokens and audit of the ML lifecycle orchestrator. Errors are RFC 9457 problem details (application/problem+json). Lists are newest first with cursor pagination (`limit` at most 100, `nextCursor`).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'mlops_... token from POST /v1/tokens or the admin token',
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

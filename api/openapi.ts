// The OpenAPI 3.1 document, generated from the route declarations (see route.ts): the same zod
// schemas that parse a request describe it here, and the problems the mount loop itself raises
// are derived from the declaration (a token: 401, 403, 429; a body: 413, 415; 400 on every route,
// since any route refuses a query parameter it does not take), so every status a route can answer
// is in the document.
import { rolesWith } from '../lib/auth/roles';
import { openApiPath, type ResponseDoc, type RouteDef } from './route';
import { problemResponses } from './routes/schemas';
import { toJsonSchema, type JsonSchema } from './zod-json-schema';

/** The problems the mount loop answers for this declaration, before the handler runs. */
export function edgeStatuses(r: RouteDef): number[] {
  // 400 on every route: an unknown query parameter is refused even where none is taken.
  const codes: number[] = [400];
  if (r.permission) codes.push(401, 403, 429);
  if (r.body) codes.push(413, 415);
  return codes;
}

function responseOf(doc: ResponseDoc): Record<string, unknown> {
  return {
    description: doc.description,
    ...(doc.schema
      ? { content: { [doc.contentType ?? 'application/json']: { schema: toJsonSchema(doc.schema) } } }
      : {}),
    ...(doc.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(doc.headers).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }])
          ),
        }
      : {}),
    ...(doc.links ? { links: doc.links } : {}),
  };
}

function parametersOf(r: RouteDef): unknown[] {
  const parameters: unknown[] = [];
  for (const [name, schema] of Object.entries(
    (r.params?.shape ?? {}) as Record<string, Parameters<typeof toJsonSchema>[0]>
  )) {
    const { description, ...json } = toJsonSchema(schema);
    parameters.push({ name, in: 'path', required: true, description, schema: json });
  }
  if (r.query) {
    const qs = toJsonSchema(r.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, { description, ...schema }] of Object.entries(qs.properties ?? {})) {
      parameters.push({ name, in: 'query', required: qs.required?.includes(name) ?? false, description, schema });
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
  return parameters;
}

export function buildOpenApi(routes: RouteDef[], version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const declared = { ...problemResponses(...edgeStatuses(r)), ...r.responses };
    const responses = Object.fromEntries(Object.entries(declared).map(([code, doc]) => [code, responseOf(doc)]));
    const parameters = parametersOf(r);
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
      'x-unknown-query-parameters': 'refused',
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: !r.bodyOptional,
              content: { 'application/json': { schema: toJsonSchema(r.body) } },
            },
          }
        : r.rawJsonBody
          ? {
              requestBody: {
                required: true,
                description: r.rawJsonBody.description,
                content: { 'application/json': { schema: { type: 'object' } } },
              },
            }
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
        'Runs, approvals, model registry, tokens and audit of the ML lifecycle orchestrator. Errors are RFC 9457 problem details (application/problem+json) whose `type` is one the response lists. Lists are newest first with cursor pagination (`limit`, `nextCursor`). Every operation refuses a query parameter it does not list with a 400 naming it (`x-unknown-query-parameters: refused`).',
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

// A small zod -> JSON Schema (2020-12, as OpenAPI 3.1 uses) converter for the zod types
// the API's request schemas use. Transforms and pipes are documented by their input side:
// that is what a client sends.
//
// Why not a library (issue 12, finding 9; weighed by generating the whole OpenAPI document both
// ways and diffing them):
// - zod 4's own z.toJSONSchema converts zod 4 schemas only. The API's schemas are zod 3
//   (package.json: zod ^3.25; 28 files import it). Moving to it is a migration of every schema
//   and of the validation error texts clients and tests read; when that is done, this file goes
//   (documented() becomes its `override` option).
// - zod-to-json-schema (3.25.2) is unmaintained: its README says so since November 2025 and
//   points to zod 4. It has no 2020-12 target. With jsonSchema2019-09 it writes exclusive bounds
//   in the draft-4 form (`minimum: 0, exclusiveMinimum: true`, 19 places, e.g. a learning rate
//   above 0), which a 3.1 reader takes as "0 is allowed", though the server refuses 0. With every
//   target it writes tuples as `items: [...]`, which 2020-12 replaced by prefixItems, so readers
//   ignore the cursor's content schema. Using it means an adapter that rewrites its output plus a
//   postProcess hook for documented(): no less code to own than this, on a package nobody keeps.
// The unit tests pin both forms (test/unit/api/validation.test.ts).
import { z } from 'zod';
import { documentation, type JsonSchema } from '../lib/spec/json-schema-doc';

export { documented, type JsonSchema } from '../lib/spec/json-schema-doc';

export function toJsonSchema(schema: z.ZodTypeAny): JsonSchema {
  const def = schema._def as { typeName: z.ZodFirstPartyTypeKind; description?: string };
  const override = documentation(schema);
  const out = override ? override(convert(schema)) : convert(schema);
  if (def.description && !out.description) out.description = def.description;
  return out;
}

function convert(schema: z.ZodTypeAny): JsonSchema {
  if (schema instanceof z.ZodString) {
    const s: JsonSchema = { type: 'string' };
    for (const c of schema._def.checks) {
      if (c.kind === 'min') s.minLength = c.value;
      else if (c.kind === 'max') s.maxLength = c.value;
      else if (c.kind === 'length') s.minLength = s.maxLength = c.value;
      else if (c.kind === 'regex') s.pattern = c.regex.source;
      else if (c.kind === 'datetime') s.format = 'date-time';
      else if (c.kind === 'email') s.format = 'email';
      else if (c.kind === 'url') s.format = 'uri';
    }
    return s;
  }
  if (schema instanceof z.ZodNumber) {
    const s: JsonSchema = { type: 'number' };
    for (const c of schema._def.checks) {
      if (c.kind === 'int') s.type = 'integer';
      else if (c.kind === 'min') s[c.inclusive ? 'minimum' : 'exclusiveMinimum'] = c.value;
      else if (c.kind === 'max') s[c.inclusive ? 'maximum' : 'exclusiveMaximum'] = c.value;
    }
    return s;
  }
  if (schema instanceof z.ZodBoolean) return { type: 'boolean' };
  if (schema instanceof z.ZodDate) return { type: 'string', format: 'date-time' };
  if (schema instanceof z.ZodNull) return { type: 'null' };
  if (schema instanceof z.ZodLiteral) return { const: schema._def.value };
  if (schema instanceof z.ZodEnum) return { type: 'string', enum: [...schema._def.values] };
  if (schema instanceof z.ZodNativeEnum) return { enum: Object.values(schema._def.values) };
  if (schema instanceof z.ZodArray) {
    const s: JsonSchema = { type: 'array', items: toJsonSchema(schema._def.type) };
    if (schema._def.minLength) s.minItems = schema._def.minLength.value;
    if (schema._def.maxLength) s.maxItems = schema._def.maxLength.value;
    return s;
  }
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodTypeAny>;
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, child] of Object.entries(shape)) {
      properties[key] = toJsonSchema(child);
      if (!child.isOptional()) required.push(key);
    }
    const s: JsonSchema = { type: 'object', properties };
    if (required.length) s.required = required;
    const unknownKeys = schema._def.unknownKeys as string;
    const catchall = schema._def.catchall as z.ZodTypeAny;
    if (!(catchall instanceof z.ZodNever)) s.additionalProperties = toJsonSchema(catchall);
    else if (unknownKeys === 'strict') s.additionalProperties = false;
    return s;
  }
  if (schema instanceof z.ZodRecord) {
    const keys = toJsonSchema(schema._def.keyType);
    return {
      type: 'object',
      ...(Object.keys(keys).length > 1 ? { propertyNames: keys } : {}),
      additionalProperties: toJsonSchema(schema._def.valueType),
    };
  }
  if (schema instanceof z.ZodTuple) {
    const items = (schema._def.items as z.ZodTypeAny[]).map(toJsonSchema);
    return { type: 'array', prefixItems: items, minItems: items.length, maxItems: items.length };
  }
  if (schema instanceof z.ZodUnknown || schema instanceof z.ZodAny) return {};
  if (schema instanceof z.ZodUnion || schema instanceof z.ZodDiscriminatedUnion) {
    const options = (schema._def.options as z.ZodTypeAny[] | Map<unknown, z.ZodTypeAny>).values();
    return { anyOf: [...options].map(toJsonSchema) };
  }
  if (schema instanceof z.ZodIntersection) {
    return { allOf: [toJsonSchema(schema._def.left), toJsonSchema(schema._def.right)] };
  }
  if (schema instanceof z.ZodOptional) return toJsonSchema(schema._def.innerType);
  if (schema instanceof z.ZodNullable) return { anyOf: [toJsonSchema(schema._def.innerType), { type: 'null' }] };
  if (schema instanceof z.ZodDefault) {
    const inner = toJsonSchema(schema._def.innerType);
    try {
      const d = schema._def.defaultValue();
      if (d !== undefined && (typeof d !== 'object' || Object.keys(d as object).length > 0 || Array.isArray(d))) {
        inner.default = d;
      }
    } catch {
      // no default shown
    }
    return inner;
  }
  if (schema instanceof z.ZodEffects) return toJsonSchema(schema._def.schema);
  if (schema instanceof z.ZodPipeline) return toJsonSchema(schema._def.in);
  if (schema instanceof z.ZodLazy) return toJsonSchema(schema._def.getter());
  if (schema instanceof z.ZodCatch) return toJsonSchema(schema._def.innerType);
  if (schema instanceof z.ZodBranded) return toJsonSchema(schema._def.type);
  if (schema instanceof z.ZodReadonly) return toJsonSchema(schema._def.innerType);
  return {};
}

// How a zod schema says what its JSON Schema is where zod holds the rule in code (a refinement,
// a decoded string, a number read from a query string). It lives in lib, beside the specs whose
// rules need it (a dataset path), and api/zod-json-schema.ts reads it when it writes the document.
import type { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

export type JsonSchemaOverride = (converted: JsonSchema) => JsonSchema;

/**
 * Documents a schema whose rule zod holds in code: `doc` gets the converted schema and returns
 * what the document says. The rule and its documentation then sit side by side, in one declaration.
 */
export function documented<S extends z.ZodTypeAny>(schema: S, doc: JsonSchemaOverride): S {
  // Kept on the definition, which zod copies into the clones .describe() and friends make.
  (schema._def as { jsonSchema?: JsonSchemaOverride }).jsonSchema = doc;
  return schema;
}

/** The override `documented` put on this schema, if any. */
export function documentation(schema: z.ZodTypeAny): JsonSchemaOverride | undefined {
  return (schema._def as { jsonSchema?: JsonSchemaOverride }).jsonSchema;
}

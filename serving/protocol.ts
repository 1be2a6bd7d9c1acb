// The Open Inference Protocol (KServe v2) REST dialect, as this server speaks it: the model's
// tensor metadata (read from the exported ONNX), request decoding and response encoding. Every
// check happens here, before ONNX Runtime sees anything: input names, datatypes, shapes, row
// counts and element types, each refusal naming the input and what was expected. Missing values
// become what training preprocessing makes of them (NaN for numeric columns, which the graph
// imputes with the training median; '' for categorical ones, with the same missing spellings the
// dataset reader uses), so a request scores exactly like a row of the training file.
import { z } from 'zod';
import { MISSING_TOKENS } from '../lib/ml/dataset/columns';
import { META, OUTPUT_LABEL, OUTPUT_PROBABILITIES, OUTPUT_VALUE } from '../lib/ml/export';
import { DataType, decodeModel, type ValueInfoProto } from '../lib/ml/onnx/proto';
import { MISSING_CATEGORY } from '../lib/ml/preprocessing';
import type { Preprocessing, Task } from '../lib/ml/types';

/** A 4xx answer: `{"error": message}` with this status. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

/** What the server needs to know about a model's inputs and outputs, all from its ONNX bytes. */
export interface ModelSchema {
  task: Task;
  /** Numeric feature columns in the graph's order (the packed input's column order). */
  numeric: string[];
  categorical: string[];
  /** The graph takes numeric columns as one [N, numeric] input (lib/ml/export.ts packNumeric). */
  packed: boolean;
  classes?: string[];
  /** The protocol's view: one [-1, 1] tensor per feature column. */
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  /** The graph's own inputs (for the metadata's parameters: where they differ from `inputs`). */
  graphInputs: TensorMeta[];
}

const V2_TYPES: Partial<Record<DataType, string>> = {
  [DataType.FLOAT]: 'FP32',
  [DataType.DOUBLE]: 'FP64',
  [DataType.STRING]: 'BYTES',
  [DataType.INT64]: 'INT64',
  [DataType.INT32]: 'INT32',
  [DataType.INT8]: 'INT8',
  [DataType.UINT8]: 'UINT8',
  [DataType.BOOL]: 'BOOL',
};

function tensorMeta(v: ValueInfoProto): TensorMeta {
  const t = v.type.tensorType;
  return {
    name: v.name,
    datatype: V2_TYPES[t.elemType] ?? `ONNX_${t.elemType}`,
    shape: (t.shape?.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : -1)),
  };
}

export function modelSchema(onnx: Uint8Array): ModelSchema {
  const m = decodeModel(onnx);
  const meta = Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key, p.value]));
  if (!meta[META.preprocessing]) {
    throw new Error('the ONNX model has no preprocessing metadata; it was not exported by lib/ml/export.ts');
  }
  const prep = JSON.parse(meta[META.preprocessing]) as Preprocessing;
  const numeric = prep.numeric.map((p) => p.name);
  const categorical = prep.categorical.map((p) => p.name);
  return {
    task: meta[META.task] === 'regression' ? 'regression' : 'classification',
    numeric,
    categorical,
    packed: meta[META.inputs] === 'packed-numeric',
    classes: meta[META.classes] ? (JSON.parse(meta[META.classes]) as string[]) : undefined,
    inputs: [
      ...numeric.map((name) => ({ name, datatype: 'FP32', shape: [-1, 1] })),
      ...categorical.map((name) => ({ name, datatype: 'BYTES', shape: [-1, 1] })),
    ],
    outputs: m.graph.output.map(tensorMeta),
    graphInputs: m.graph.input.map(tensorMeta),
  };
}

/** Decoded rows of one request: numeric columns row-major, categorical columns as strings. */
export interface Block {
  rows: number;
  /** rows x schema.numeric.length, row-major; NaN is missing. */
  numeric: Float32Array;
  /** One array per schema.categorical column. */
  strings: string[][];
}

const NUMERIC_TYPES = new Set([
  'FP16',
  'FP32',
  'FP64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);
const MAX_SHAPE = 2 ** 31;

const requestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: z.record(z.unknown()).optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1).max(256),
        shape: z.array(z.number().int().min(0).max(MAX_SHAPE)).min(1).max(8),
        datatype: z.string().min(1).max(16),
        parameters: z.record(z.unknown()).optional(),
        // Not z.array(): that copies every element; elements are checked while decoding.
        data: z.custom<unknown[]>(Array.isArray, { message: 'expected an array (flat, row-major)' }),
      })
    )
    .min(1)
    .max(10_000),
  outputs: z
    .array(z.object({ name: z.string().min(1).max(256), parameters: z.record(z.unknown()).optional() }))
    .max(16)
    .optional(),
});
export type InferRequest = z.infer<typeof requestSchema>;

/** Parses a request body (any JSON text) into a checked InferRequest. */
export function parseRequest(text: string): InferRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(
      400,
      `the body is not valid JSON (${(err as Error).message}); send an inference request object`
    );
  }
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw new ProtocolError(
      400,
      `${where}: ${issue.message}; expected {"inputs": [{"name", "shape", "datatype", "data"}], "id"?, "outputs"?}`
    );
  }
  return parsed.data;
}

/** Turns a checked request into rows for the model, or throws a ProtocolError naming the input. */
export function decodeInputs(schema: ModelSchema, req: InferRequest, maxRows: number): Block {
  const byName = new Map<string, InferRequest['inputs'][number]>();
  for (const input of req.inputs) {
    if (byName.has(input.name)) throw new ProtocolError(400, `input '${input.name}' is given twice`);
    byName.set(input.name, input);
  }
  const wanted = new Set([...schema.numeric, ...schema.categorical]);
  const unknown = [...byName.keys()].filter((n) => !wanted.has(n));
  if (unknown.length) {
    throw new ProtocolError(
      400,
      `unknown input(s) ${unknown.map((n) => `'${n}'`).join(', ')}; the model takes ${[...wanted].map((n) => `'${n}'`).join(', ')}`
    );
  }
  const missing = [...wanted].filter((n) => !byName.has(n));
  if (missing.length) {
    throw new ProtocolError(
      400,
      `missing input(s) ${missing.map((n) => `'${n}'`).join(', ')}; send every feature column, with null for a missing value`
    );
  }
  let rows = -1;
  const rowsOf = (input: InferRequest['inputs'][number]): number => {
    const { shape, name } = input;
    if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new ProtocolError(400, `input '${name}' has shape [${shape}]; expected [N] or [N, 1] (one value per row)`);
    }
    const n = shape[0];
    if (input.data.length !== n) {
      throw new ProtocolError(
        400,
        `input '${name}' has ${input.data.length} data elements but shape [${shape}] needs ${n}`
      );
    }
    if (rows === -1) rows = n;
    else if (n !== rows) throw new ProtocolError(400, `input '${name}' has ${n} rows; the other inputs have ${rows}`);
    return n;
  };
  for (const input of req.inputs) rowsOf(input);
  if (rows === 0) throw new ProtocolError(400, 'the request has 0 rows; send at least one');
  if (rows > maxRows) {
    throw new ProtocolError(
      413,
      `the request has ${rows} rows; at most ${maxRows} are accepted (MLOPS_INFERENCE_MAX_ROWS)`
    );
  }
  const k = schema.numeric.length;
  const numeric = new Float32Array(rows * k);
  schema.numeric.forEach((name, j) => {
    const input = byName.get(name)!;
    if (!NUMERIC_TYPES.has(input.datatype)) {
      throw new ProtocolError(400, `input '${name}' has datatype ${input.datatype}; expected FP32 (a numeric column)`);
    }
    const data = input.data;
    for (let i = 0; i < rows; i++) {
      const v = data[i];
      if (typeof v === 'number') numeric[i * k + j] = v;
      else if (v === null)
        numeric[i * k + j] = NaN; // imputed by the graph, as in training
      else {
        throw new ProtocolError(
          400,
          `input '${name}' element ${i} is ${JSON.stringify(v)?.slice(0, 40)}; expected a number or null (missing)`
        );
      }
    }
  });
  const strings = schema.categorical.map((name) => {
    const input = byName.get(name)!;
    const numericCodes = NUMERIC_TYPES.has(input.datatype);
    if (input.datatype !== 'BYTES' && !numericCodes) {
      throw new ProtocolError(
        400,
        `input '${name}' has datatype ${input.datatype}; expected BYTES (a categorical column)`
      );
    }
    const out: string[] = new Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = input.data[i];
      if (v === null) out[i] = MISSING_CATEGORY;
      else if (typeof v === 'string' && !numericCodes) {
        const t = v.trim();
        out[i] = MISSING_TOKENS.has(t) ? MISSING_CATEGORY : t;
      } else if (typeof v === 'number' && numericCodes)
        out[i] = String(v); // codes read as their decimal text
      else {
        throw new ProtocolError(
          400,
          `input '${name}' element ${i} is ${JSON.stringify(v)?.slice(0, 40)}; expected a ${numericCodes ? 'number' : 'string'} or null (missing)`
        );
      }
    }
    return out;
  });
  return { rows, numeric, strings };
}

/** The outputs a request asked for (all when it names none). */
export function selectOutputs(schema: ModelSchema, req: InferRequest): TensorMeta[] {
  if (!req.outputs?.length) return schema.outputs;
  return req.outputs.map(({ name }) => {
    const o = schema.outputs.find((x) => x.name === name);
    if (!o) {
      throw new ProtocolError(
        400,
        `unknown output '${name}'; the model has ${schema.outputs.map((x) => `'${x.name}'`).join(', ')}`
      );
    }
    return o;
  });
}

/** One request's share of a model run. */
export interface Prediction {
  rows: number;
  labels?: string[];
  /** rows x classes, row-major. */
  probabilities?: Float32Array;
  values?: Float32Array;
}

export function encodeOutputs(p: Prediction, wanted: TensorMeta[]) {
  return wanted.map((o) => {
    if (o.name === OUTPUT_LABEL) return { name: o.name, datatype: 'BYTES', shape: [p.rows], data: p.labels! };
    if (o.name === OUTPUT_VALUE) {
      return { name: o.name, datatype: 'FP32', shape: [p.rows], data: Array.from(p.values!) };
    }
    const k = p.probabilities!.length / p.rows;
    return { name: OUTPUT_PROBABILITIES, datatype: 'FP32', shape: [p.rows, k], data: Array.from(p.probabilities!) };
  });
}

// ONNX only: the one model format we load. Pickle-based formats (pickle, joblib, torch.save
// .pt/.pth, Keras .h5 Lambda layers) run code when they are loaded, which is how MLflow and
// many model hubs were exploited. An ONNX file is a protobuf graph of operators that ONNX
// Runtime interprets; it cannot carry code. So every model we store or load is checked
// here first: a known foreign format is named in the error, anything else must parse as an
// ONNX ModelProto (ir_version and a graph), and tensors that point at external data files are
// refused (ONNX external-data path traversal, e.g. CVE-2022-25882).
import { MlInputError } from './errors';

export class ModelFormatError extends MlInputError {
  constructor(
    message: string,
    readonly detected: string
  ) {
    super(message);
    // An MlInputError, so activities map it to a non-retryable failure.
  }
}

const FIX =
  'Only ONNX models are accepted, because other formats can run code when loaded. ' +
  'Export the model to ONNX (e.g. torch.onnx.export, skl2onnx, tf2onnx; see docs/trainers.md).';

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Names a well-known non-ONNX format from its first bytes, or null. */
export function sniffForeignFormat(b: Uint8Array): string | null {
  if (b.length === 0) return 'an empty file';
  if (b[0] === 0x80 && b[1] >= 2 && b[1] <= 5) return `a Python pickle (protocol ${b[1]})`;
  // Protocol 0/1 pickles are text-like opcodes ending with STOP ('.').
  if (b[b.length - 1] === 0x2e && [0x28, 0x5d, 0x7d, 0x63].includes(b[0])) return 'a Python pickle (protocol 0/1)';
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) {
    return 'a ZIP archive (PyTorch torch.save .pt/.pth, Keras .keras or NumPy .npz, which hold pickles)';
  }
  if (startsWith(b, [0x1f, 0x8b])) return 'gzip-compressed data (e.g. a joblib pickle)';
  if (b[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(b[1])) return 'zlib-compressed data (e.g. a joblib pickle)';
  if (startsWith(b, ascii('BZh'))) return 'bzip2-compressed data (e.g. a joblib pickle)';
  if (startsWith(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz/lzma-compressed data (e.g. a joblib pickle)';
  if (startsWith(b, [0x04, 0x22, 0x4d, 0x18])) return 'lz4-compressed data (e.g. a joblib pickle)';
  if (startsWith(b, [0x93, ...ascii('NUMPY')])) return 'a NumPy .npy array (may hold pickled objects)';
  if (startsWith(b, [0x89, ...ascii('HDF\r\n'), 0x1a, 0x0a])) return 'an HDF5 file (Keras .h5)';
  if (startsWith(b, ascii('GGUF'))) return 'a GGUF file';
  if (startsWith(b, ascii('TFL3'), 4)) return 'a TensorFlow Lite flatbuffer';
  if (startsWith(b, ascii('ORTM'), 4)) return 'an ONNX Runtime .ort file (export the .onnx model instead)';
  if (b.length >= 9 && b[8] === 0x7b && b[5] === 0 && b[6] === 0 && b[7] === 0)
    return 'a safetensors file (weights without a graph)';
  if (b[0] === 0x7b || b[0] === 0x5b) return 'JSON or text';
  return null;
}

/** Protobuf reader over one message's bytes [pos, end). */
class Reader {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number
  ) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.b[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Next field as { field, wire, start, end } (start/end of its payload), or null at the end. */
  next(): { field: number; wire: number; start: number; end: number; value?: number } | null {
    if (this.pos >= this.end) return null;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error('field number 0');
    const start = this.pos;
    switch (wire) {
      case 0: {
        const value = this.varint();
        return { field, wire, start, end: this.pos, value };
      }
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.varint();
        this.pos += len;
        if (this.pos > this.end) throw new Error(`field ${field} runs past the end of its message`);
        return { field, wire, start: this.pos - len, end: this.pos };
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`wire type ${wire} (groups or invalid)`);
    }
    if (this.pos > this.end) throw new Error(`field ${field} runs past the end of its message`);
    return { field, wire, start, end: this.pos };
  }
}

// Field numbers from onnx/onnx.proto.
const MODEL = { irVersion: 1, graph: 7, functions: 25 };
const GRAPH = { node: 1, initializer: 5, sparseInitializer: 15 };
const NODE = { attribute: 5 };
const ATTRIBUTE = { t: 5, g: 6, tensors: 10, graphs: 11, sparseTensor: 22, sparseTensors: 23 };
const SPARSE = { values: 1, indices: 2 };
const TENSOR = { dims: 1, dataLocation: 13, externalData: 14 };
const FUNCTION = { node: 7 };
const EXTERNAL = 1;

function lenFields(
  b: Uint8Array,
  start: number,
  end: number,
  want: number[]
): { field: number; start: number; end: number }[] {
  const r = new Reader(b, start, end);
  const out: { field: number; start: number; end: number }[] = [];
  for (let f = r.next(); f; f = r.next()) if (f.wire === 2 && want.includes(f.field)) out.push(f);
  return out;
}

/** Throws when a tensor (anywhere in the model, subgraphs included) names external data. */
function checkTensor(b: Uint8Array, start: number, end: number, where: string): void {
  const r = new Reader(b, start, end);
  for (let f = r.next(); f; f = r.next()) {
    if (
      (f.field === TENSOR.dataLocation && f.value === EXTERNAL) ||
      (f.field === TENSOR.externalData && f.wire === 2)
    ) {
      throw new Error(`${where} stores its data in an external file`);
    }
  }
}

function checkSparse(b: Uint8Array, start: number, end: number, where: string): void {
  for (const t of lenFields(b, start, end, [SPARSE.values, SPARSE.indices])) checkTensor(b, t.start, t.end, where);
}

function checkNodes(b: Uint8Array, nodes: { start: number; end: number }[], where: string, depth: number): void {
  for (const n of nodes) {
    for (const a of lenFields(b, n.start, n.end, [NODE.attribute])) {
      const parts = lenFields(b, a.start, a.end, Object.values(ATTRIBUTE));
      for (const p of parts) {
        if (p.field === ATTRIBUTE.t || p.field === ATTRIBUTE.tensors)
          checkTensor(b, p.start, p.end, `a tensor attribute in ${where}`);
        else if (p.field === ATTRIBUTE.sparseTensor || p.field === ATTRIBUTE.sparseTensors) {
          checkSparse(b, p.start, p.end, `a sparse tensor attribute in ${where}`);
        } else checkGraph(b, p.start, p.end, `a subgraph of ${where}`, depth + 1);
      }
    }
  }
}

function checkGraph(b: Uint8Array, start: number, end: number, where: string, depth: number): void {
  if (depth > 32) throw new Error('subgraphs nest deeper than 32 levels');
  const parts = lenFields(b, start, end, Object.values(GRAPH));
  for (const p of parts) {
    if (p.field === GRAPH.initializer) checkTensor(b, p.start, p.end, `an initializer of ${where}`);
    else if (p.field === GRAPH.sparseInitializer) checkSparse(b, p.start, p.end, `a sparse initializer of ${where}`);
  }
  checkNodes(
    b,
    parts.filter((p) => p.field === GRAPH.node),
    where,
    depth
  );
}

/**
 * Checks that `bytes` are an ONNX model with its data inline, and throws ModelFormatError
 * naming what they are otherwise. `what` names the file in the message (e.g. "model.onnx").
 */
export function assertOnnxModel(bytes: Uint8Array, what = 'the model'): void {
  const foreign = sniffForeignFormat(bytes);
  if (foreign) throw new ModelFormatError(`${what} is ${foreign}, not ONNX. ${FIX}`, foreign);
  try {
    const r = new Reader(bytes, 0, bytes.length);
    let irVersion: number | undefined;
    let graph: { start: number; end: number } | undefined;
    const functions: { start: number; end: number }[] = [];
    for (let f = r.next(); f; f = r.next()) {
      if (f.field === MODEL.irVersion && f.wire === 0) irVersion = f.value;
      else if (f.field === MODEL.graph && f.wire === 2) graph = f;
      else if (f.field === MODEL.functions && f.wire === 2) functions.push(f);
    }
    if (irVersion === undefined || irVersion < 1 || irVersion > 100) throw new Error('no valid ir_version');
    if (!graph || graph.end === graph.start) throw new Error('no graph');
    checkGraph(bytes, graph.start, graph.end, 'the main graph', 0);
    for (const fn of functions) {
      checkNodes(bytes, lenFields(bytes, fn.start, fn.end, [FUNCTION.node]), 'a model function', 0);
    }
  } catch (err) {
    const why = (err as Error).message;
    if (/external file/.test(why)) {
      throw new ModelFormatError(
        `${what} is ONNX but ${why}; external data is refused because its file path could point anywhere on the worker. ` +
          'Save the model with its weights inside (onnx.save(model, path, save_as_external_data=False)).',
        'onnx-external-data'
      );
    }
    throw new ModelFormatError(`${what} is not a valid ONNX model (${why}). ${FIX}`, 'unknown');
  }
}

/**
 * How many values the main graph's initializers hold: for an ONNX model a trainer wrote, its
 * parameter count (weights and biases, plus any constants stored as initializers). Call it on
 * bytes assertOnnxModel has accepted.
 */
export function onnxInitializerElements(bytes: Uint8Array): number {
  const model = new Reader(bytes, 0, bytes.length);
  let total = 0;
  for (let f = model.next(); f; f = model.next()) {
    if (f.field !== MODEL.graph || f.wire !== 2) continue;
    for (const t of lenFields(bytes, f.start, f.end, [GRAPH.initializer]))
      total += tensorElements(bytes, t.start, t.end);
  }
  return total;
}

/** The product of a TensorProto's dims (field 1, packed or not; no dims = a scalar). */
function tensorElements(b: Uint8Array, start: number, end: number): number {
  const dims: number[] = [];
  const r = new Reader(b, start, end);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== TENSOR.dims) continue;
    if (f.wire === 0) dims.push(f.value!);
    else if (f.wire === 2)
      for (const packed = new Reader(b, f.start, f.end); packed.pos < packed.end;) dims.push(packed.varint());
  }
  return dims.reduce((n, d) => n * d, 1);
}

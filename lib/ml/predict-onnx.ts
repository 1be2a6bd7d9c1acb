// Runs an exported model on a Frame with onnxruntime-node. The feature schema comes from the
// model's own metadata, so evaluation and serving need nothing but the ONNX bytes.
import { META, OUTPUT_LABEL, OUTPUT_PROBABILITIES, OUTPUT_VALUE, PACKED_NUMERIC } from './export';
import { MlInputError } from './errors';
import { decodeModel } from './onnx/proto';
import { createSession, ort, SessionSettings } from './ort';
import { MISSING_CATEGORY } from './preprocessing';
import type { FeatureSpec, Frame, OnnxPrediction, Preprocessing } from './types';

export function readOnnxMetadata(onnx: Uint8Array): Record<string, string> {
  const m = decodeModel(onnx);
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key, p.value]));
}

interface Loaded {
  session: ort.InferenceSession;
  features: FeatureSpec[];
  classes?: string[];
  /** Numeric features in packed order when the model takes one packed numeric input. */
  packed?: string[];
}
// Sessions are cached per byte array so repeated calls (evaluation chunks, benchmarks) don't reload.
const cache = new WeakMap<Uint8Array, Promise<Loaded>>();

export function loadOnnx(onnx: Uint8Array, settings: SessionSettings = {}): Promise<Loaded> {
  let p = cache.get(onnx);
  if (!p) {
    p = (async () => {
      const meta = readOnnxMetadata(onnx);
      if (!meta[META.features])
        throw new MlInputError('the ONNX model has no feature schema metadata; export it with exportOnnx');
      const session = await createSession(onnx, settings);
      const packed =
        meta[META.inputs] === 'packed-numeric'
          ? (JSON.parse(meta[META.preprocessing]) as Preprocessing).numeric.map((p) => p.name)
          : undefined;
      return {
        session,
        packed,
        features: JSON.parse(meta[META.features]) as FeatureSpec[],
        classes: meta[META.classes] ? (JSON.parse(meta[META.classes]) as string[]) : undefined,
      };
    })();
    cache.set(onnx, p);
  }
  return p;
}

/** Builds the graph inputs for rows [start, end) of a frame. */
export function onnxFeeds(
  features: FeatureSpec[],
  frame: Frame,
  start = 0,
  end = frame.length,
  packed?: string[]
): Record<string, ort.Tensor> {
  const n = end - start;
  const feeds: Record<string, ort.Tensor> = {};
  if (packed) {
    const data = new Float32Array(n * packed.length);
    packed.forEach((name, j) => {
      const col = frame.columns[name];
      if (!(col instanceof Float64Array)) throw new MlInputError(`feature '${name}' must be numeric (Float64Array)`);
      for (let i = 0; i < n; i++) data[i * packed.length + j] = col[start + i];
    });
    feeds[PACKED_NUMERIC] = new ort.Tensor('float32', data, [n, packed.length]);
  }
  for (const f of features) {
    if (packed && f.type === 'numeric') continue;
    const col = frame.columns[f.name];
    if (col === undefined) throw new MlInputError(`the model needs feature column '${f.name}', which the data lacks`);
    if (f.type === 'numeric') {
      if (!(col instanceof Float64Array)) throw new MlInputError(`feature '${f.name}' must be numeric (Float64Array)`);
      feeds[f.name] = new ort.Tensor('float32', Float32Array.from(col.subarray(start, end)), [n, 1]);
    } else {
      const values: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = col[start + i];
        values[i] = v === null || (typeof v === 'number' && Number.isNaN(v)) ? MISSING_CATEGORY : String(v);
      }
      feeds[f.name] = new ort.Tensor('string', values, [n, 1]);
    }
  }
  return feeds;
}

/** Rows per session.run: bounds activation memory on large frames. */
const PREDICT_ROWS = 65536;

export async function predictOnnx(onnx: Uint8Array, frame: Frame): Promise<OnnxPrediction> {
  const { session, features, classes, packed } = await loadOnnx(onnx);
  const n = frame.length;
  let values: Float32Array | undefined;
  let probabilities: Float32Array | undefined;
  const labels: string[] = [];
  for (let start = 0; start < n || start === 0; start += PREDICT_ROWS) {
    const end = Math.min(n, start + PREDICT_ROWS);
    const out = await session.run(onnxFeeds(features, frame, start, end, packed));
    if (out[OUTPUT_VALUE]) {
      values ??= new Float32Array(n);
      values.set(out[OUTPUT_VALUE].data as Float32Array, start);
    } else {
      const p = out[OUTPUT_PROBABILITIES].data as Float32Array;
      const k = classes?.length ?? p.length / Math.max(1, end - start);
      probabilities ??= new Float32Array(n * k);
      probabilities.set(p, start * k);
      for (const l of out[OUTPUT_LABEL].data as string[]) labels.push(l);
    }
    if (end >= n) break;
  }
  if (values) return { values };
  return { labels, probabilities, classes };
}

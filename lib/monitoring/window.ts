// One monitoring window: logged requests (Open Inference Protocol inputs and outputs, as the
// inference server wrote them to the prediction log) are streamed into sketches on the reference
// profile's bins, then compared with the profile. Pure: the caller supplies the entries (a store
// cursor in production, arrays in tests), and memory stays O(columns x bins) however many rows.
import { MISSING_TOKENS } from '../ml/dataset/columns';
import { OUTPUT_LABEL, OUTPUT_VALUE } from '../ml/export';
import { columnDrift, datasetDrift, type ColumnDrift, type DriftOptions } from './drift';
import { sketchFor, type CategoricalSketch, type NumericSketch, type ReferenceProfile } from './profile';

/** The parts of a prediction-log entry a window reads. */
export interface LoggedRequest {
  inputs: unknown;
  outputs: unknown;
}

interface Tensor {
  name: string;
  data: unknown[];
}

function tensors(v: unknown): Tensor[] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (t): t is Tensor =>
      typeof t === 'object' && t !== null && typeof (t as Tensor).name === 'string' && Array.isArray((t as Tensor).data)
  );
}

function numericValue(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function categoricalValue(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return MISSING_TOKENS.has(t) ? null : t;
}

export interface WindowSummary {
  /** Logged requests and the feature rows they held. */
  requests: number;
  rows: number;
  /** Rows whose outputs held the prediction the profile describes. */
  predictionRows: number;
  features: ColumnDrift[];
  prediction: ColumnDrift | null;
  dataset: ReturnType<typeof datasetDrift>;
}

/** Accumulates logged requests on a profile's bins; `summary()` compares them with the profile. */
export class WindowAccumulator {
  requests = 0;
  rows = 0;
  predictionRows = 0;
  private readonly features: { name: string; numeric: boolean; sketch: NumericSketch | CategoricalSketch }[];
  private readonly prediction: { output: string; numeric: boolean; sketch: NumericSketch | CategoricalSketch } | null;

  constructor(
    private readonly profile: ReferenceProfile,
    private readonly opts: DriftOptions
  ) {
    this.features = profile.features.map((f) => ({
      name: f.name,
      numeric: f.type === 'numeric',
      sketch: sketchFor(f),
    }));
    const p = profile.prediction;
    this.prediction = p
      ? {
          output: p.type === 'numeric' ? OUTPUT_VALUE : OUTPUT_LABEL,
          numeric: p.type === 'numeric',
          sketch: sketchFor(p),
        }
      : null;
  }

  add(entry: LoggedRequest): void {
    const inputs = new Map(tensors(entry.inputs).map((t) => [t.name, t.data]));
    const rows = Math.max(0, ...[...inputs.values()].map((d) => d.length));
    if (rows === 0) return;
    this.requests++;
    this.rows += rows;
    for (const f of this.features) {
      const data = inputs.get(f.name);
      for (let i = 0; i < rows; i++) {
        const v = data?.[i];
        if (f.numeric) (f.sketch as NumericSketch).add(numericValue(v));
        else (f.sketch as CategoricalSketch).add(categoricalValue(v));
      }
    }
    if (!this.prediction) return;
    const out = tensors(entry.outputs).find((t) => t.name === this.prediction!.output);
    if (!out) return;
    this.predictionRows += out.data.length;
    for (const v of out.data) {
      if (this.prediction.numeric) (this.prediction.sketch as NumericSketch).add(numericValue(v));
      else (this.prediction.sketch as CategoricalSketch).add(categoricalValue(v));
    }
  }

  summary(): WindowSummary {
    const features = this.features.map((f, i) => columnDrift(this.profile.features[i], f.sketch, this.opts));
    const prediction =
      this.prediction && this.profile.prediction && this.predictionRows > 0
        ? columnDrift(this.profile.prediction, this.prediction.sketch, this.opts)
        : null;
    return {
      requests: this.requests,
      rows: this.rows,
      predictionRows: this.predictionRows,
      features,
      prediction,
      dataset: datasetDrift(features, this.opts.thresholds),
    };
  }
}

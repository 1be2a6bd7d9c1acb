// One monitoring window: answered requests (Open Inference Protocol inputs and outputs) are
// added into sketches on the reference profile's bins, then compared with the profile. The
// inference server adds its own traffic per time bucket and stores state(); the monitoring
// activity merge()s the states of a window's buckets and servers and asks for summary(). Pure:
// the caller supplies requests and states, and memory stays O(columns x bins) however many rows.
import { MISSING_TOKENS } from '../ml/dataset/columns';
import { OUTPUT_LABEL, OUTPUT_VALUE } from '../ml/export';
import { columnDrift, datasetDrift, thresholdsOf, type ColumnDrift, type DriftOptions } from './drift';
import {
  sketchFor,
  type CategoricalSketch,
  type CategoricalSketchState,
  type NumericSketch,
  type NumericSketchState,
  type ReferenceProfile,
} from './profile';
import { binsFingerprint, WINDOW_STATE_VERSION, type ColumnState, type WindowState } from './window-state';

/** The parts of an answered request a window reads. */
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
  /** Requests and the feature rows they held. */
  requests: number;
  rows: number;
  /** Rows whose outputs held the prediction the profile describes. */
  predictionRows: number;
  features: ColumnDrift[];
  prediction: ColumnDrift | null;
  dataset: ReturnType<typeof datasetDrift>;
}

/** Accumulates requests on a profile's bins; `summary()` compares them with the profile. */
export class WindowAccumulator {
  requests = 0;
  rows = 0;
  predictionRows = 0;
  /** The profile bins' fingerprint: only states made on the same bins merge. */
  readonly bins: string;
  private readonly features: { name: string; numeric: boolean; sketch: NumericSketch | CategoricalSketch }[];
  private readonly prediction: { output: string; numeric: boolean; sketch: NumericSketch | CategoricalSketch } | null;

  constructor(
    private readonly profile: ReferenceProfile,
    /** Only summary() reads them (a server that only sketches keeps the defaults). */
    private readonly opts: DriftOptions = { thresholds: thresholdsOf(undefined) }
  ) {
    this.bins = binsFingerprint(profile);
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

  /** Everything added so far, as plain JSON (see window-state.ts). */
  state(): WindowState {
    return {
      v: WINDOW_STATE_VERSION,
      bins: this.bins,
      requests: this.requests,
      rows: this.rows,
      predictionRows: this.predictionRows,
      features: this.features.map((f) => f.sketch.state()),
      prediction: this.prediction ? this.prediction.sketch.state() : null,
    };
  }

  /** Adds a state made on the same profile bins (another server's, another bucket's). */
  merge(s: WindowState): void {
    if (s.bins !== this.bins) {
      throw new Error(
        `a window state made on profile bins ${s.bins} cannot be merged into one on bins ${this.bins}: ` +
          'it was sketched with another reference profile (another version, or the profile was rewritten)'
      );
    }
    if (s.features.length !== this.features.length || (s.prediction === null) !== (this.prediction === null)) {
      throw new Error('a window state with other columns than the profile cannot be merged');
    }
    this.features.forEach((f, i) => mergeColumn(f, s.features[i]));
    if (this.prediction) mergeColumn(this.prediction, s.prediction!);
    this.requests += s.requests;
    this.rows += s.rows;
    this.predictionRows += s.predictionRows;
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

function mergeColumn(c: { numeric: boolean; sketch: NumericSketch | CategoricalSketch }, s: ColumnState): void {
  if (c.numeric !== 'below' in s) throw new Error('a window state has a numeric column where the profile has not');
  if (c.numeric) (c.sketch as NumericSketch).merge(s as NumericSketchState);
  else (c.sketch as CategoricalSketch).merge(s as CategoricalSketchState);
}

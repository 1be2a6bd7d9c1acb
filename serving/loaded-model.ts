// One verified model version open in ONNX Runtime: its protocol schema, its batcher, and a count
// of the requests using it, so that a version replaced by an alias move is closed only after its
// last request has answered (drain), never under one.
import { OUTPUT_LABEL, OUTPUT_PROBABILITIES, OUTPUT_VALUE, PACKED_NUMERIC } from '../lib/ml/export';
import { createSession, ort } from '../lib/ml/ort';
import type { ServedModel } from '../lib/store/served-model';
import { Batcher, type BatchOptions } from './batcher';
import { faultFor, withFault, type Fault, type Faults } from './faults';
import type { ServingMetrics } from './metrics';
import { modelSchema, type Block, type ModelSchema, type Prediction } from './protocol';

export interface LoadOptions {
  /** Off: every request is its own ONNX Runtime call. */
  batching: BatchOptions | null;
  metrics: ServingMetrics;
  /** MLOPS_INFERENCE_FAULTS: versions made slow or failing on purpose (tests, chaos). */
  faults?: Faults;
}

export class LoadedModel {
  private inflight = 0;
  private retired = false;
  private drained: (() => void) | undefined;
  private readonly batcher: Batcher<Block, Prediction> | null;
  readonly fault: Fault | undefined;

  private constructor(
    readonly name: string,
    readonly version: number,
    readonly served: ServedModel,
    readonly schema: ModelSchema,
    private readonly session: ort.InferenceSession,
    private readonly opts: LoadOptions
  ) {
    this.batcher = opts.batching ? new Batcher((blocks) => this.runBlocks(blocks), opts.batching) : null;
    this.fault = faultFor(opts.faults, name, version);
  }

  /** Opens a model that loadServedModel has already verified. */
  static async open(served: ServedModel, opts: LoadOptions): Promise<LoadedModel> {
    const schema = modelSchema(served.onnx);
    const session = await createSession(served.onnx);
    return new LoadedModel(served.version.name, served.version.version, served, schema, session, opts);
  }

  /** Counts a request in; pair with release(). */
  acquire(): this {
    this.inflight++;
    return this;
  }

  release(): void {
    this.inflight--;
    if (this.inflight === 0 && this.retired) this.close();
  }

  /** No new requests will come: close the session once the ones in flight have answered. */
  retire(): Promise<void> {
    this.retired = true;
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    if (this.inflight === 0) this.close();
    return done;
  }

  private close(): void {
    void this.session.release().catch(() => undefined);
    this.drained?.();
  }

  predict(block: Block): Promise<Prediction> {
    const run = () =>
      this.batcher ? this.batcher.submit(block, block.rows) : this.runBlocks([block]).then((p) => p[0]);
    return this.fault ? withFault(this.fault, this.name, this.version, run) : run();
  }

  /** One ONNX Runtime call over the concatenated rows of several requests, split back per request. */
  private async runBlocks(blocks: Block[]): Promise<Prediction[]> {
    const { schema } = this;
    const k = schema.numeric.length;
    const rows = blocks.reduce((s, b) => s + b.rows, 0);
    const numeric = blocks.length === 1 ? blocks[0].numeric : new Float32Array(rows * k);
    if (blocks.length > 1) {
      let at = 0;
      for (const b of blocks) {
        numeric.set(b.numeric, at);
        at += b.numeric.length;
      }
    }
    const feeds: Record<string, ort.Tensor> = {};
    if (k && schema.packed) feeds[PACKED_NUMERIC] = new ort.Tensor('float32', numeric, [rows, k]);
    else {
      schema.numeric.forEach((name, j) => {
        const col = new Float32Array(rows);
        for (let i = 0; i < rows; i++) col[i] = numeric[i * k + j];
        feeds[name] = new ort.Tensor('float32', col, [rows, 1]);
      });
    }
    schema.categorical.forEach((name, j) => {
      const col = blocks.length === 1 ? blocks[0].strings[j] : blocks.flatMap((b) => b.strings[j]);
      feeds[name] = new ort.Tensor('string', col, [rows, 1]);
    });
    const out = await this.session.run(feeds);
    const { metrics } = this.opts;
    metrics.batchRows.observe({ model: this.name }, rows);
    metrics.batchRequests.observe({ model: this.name }, blocks.length);
    const version = String(this.version);
    const labels = out[OUTPUT_LABEL]?.data as string[] | undefined;
    const probabilities = out[OUTPUT_PROBABILITIES]?.data as Float32Array | undefined;
    const values = out[OUTPUT_VALUE]?.data as Float32Array | undefined;
    if (labels) {
      const counts = new Map<string, number>();
      for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
      for (const [c, n] of counts) metrics.predictedClasses.inc({ model: this.name, version, class: c }, n);
    }
    if (values) for (const v of values) metrics.predictedValues.observe({ model: this.name, version }, v);
    const width = probabilities ? probabilities.length / rows : 0;
    let start = 0;
    return blocks.map((b) => {
      const end = start + b.rows;
      const p: Prediction = {
        rows: b.rows,
        labels: labels?.slice(start, end),
        probabilities: probabilities?.subarray(start * width, end * width),
        values: values?.subarray(start, end),
      };
      start = end;
      return p;
    });
  }
}

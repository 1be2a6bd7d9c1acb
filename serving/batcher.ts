// Dynamic batching: requests that arrive while a model is busy (or within `delayMs` of the first
// one) are coalesced into one ONNX Runtime call of at most `maxRows` rows, and each caller gets
// exactly its own rows back. With delayMs 0 nothing waits on an idle model: a lone request runs at
// once, and batches form only under load, which is when they pay (bench/serving/online.ts).
export interface BatchOptions {
  maxRows: number;
  delayMs: number;
}

interface Pending<I, O> {
  input: I;
  rows: number;
  resolve(out: O): void;
  reject(err: unknown): void;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  /** `run` gets the inputs of one batch and returns one output per input, in order. */
  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly opts: BatchOptions
  ) {}

  submit(input: I, rows: number): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, rows, resolve, reject });
      this.queuedRows += rows;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return; // the batch in flight flushes the queue when it ends
    if (this.queuedRows >= this.opts.maxRows) {
      this.flush();
      return;
    }
    if (this.timer) return;
    this.timer =
      this.opts.delayMs > 0 ? setTimeout(() => this.flush(), this.opts.delayMs) : setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    // Whole requests only; one larger than maxRows runs alone.
    let rows = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || rows + this.queue[count].rows <= this.opts.maxRows)) {
      rows += this.queue[count++].rows;
    }
    const batch = this.queue.splice(0, count);
    this.queuedRows -= rows;
    this.running = true;
    this.run(batch.map((p) => p.input))
      .then(
        (outs) => batch.forEach((p, i) => p.resolve(outs[i])),
        (err) => batch.forEach((p) => p.reject(err))
      )
      .finally(() => {
        this.running = false;
        // Whoever queued meanwhile has waited a whole run already: go now.
        if (this.queue.length) this.flush();
      });
  }
}

// A tiny graph builder: generates unique value names so the model code reads like the math it
// implements, and collects initializers next to the nodes that use them.
import {
  attr,
  DataType,
  floatTensor,
  GraphProto,
  int64Tensor,
  IR_VERSION,
  ML_OPSET,
  ModelProto,
  MS_OPSET,
  NodeProto,
  OPSET,
  TensorProto,
  ValueInfoProto,
} from './proto';

/** Attribute values; { float } / { floats } force FLOAT(S) for numbers that happen to be integers. */
type Attrs = Record<
  string,
  number | string | number[] | string[] | TensorProto | GraphProto | { floats: number[] } | { float: number }
>;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();

  constructor(private readonly prefix = '') {}

  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  /** Adds a node; returns its output names (one per `outputs`, or a single generated one). */
  op(opType: string, inputs: string[], attrs: Attrs = {}, outputs: number | string[] = 1, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    const attribute = Object.entries(attrs).map(([k, v]) => {
      if (typeof v === 'object' && v !== null && 'floats' in v) return attr(k, v.floats, 'floats');
      if (typeof v === 'object' && v !== null && 'float' in v) return attr(k, v.float, 'float');
      return attr(k, v as never);
    });

    this.nodes.push({ input: inputs, output: outs, opType, domain, attribute, name: this.fresh(`n_${opType}`) });
    return outs;
  }

  /** Single-output shorthand. */
  o(opType: string, inputs: string[], attrs: Attrs = {}, domain = ''): string {
    return this.op(opType, inputs, attrs, 1, domain)[0];
  }

  init(t: TensorProto): string {
    this.initializers.push(t);
    return t.name;
  }

  /** A float constant (scalar when dims is []); identical constants are shared. */
  f(values: number | number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const d = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `f:${d.join(',')}:${arr.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.init(floatTensor(this.fresh('cf'), d, arr));
      this.constCache.set(key, name);
    }
    return name;
  }

  i64(values: number[], dims?: number[]): string {
    const d = dims ?? [values.length];
    const key = `i:${d.join(',')}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.init(int64Tensor(this.fresh('ci'), d, values));
      this.constCache.set(key, name);
    }
    return name;
  }

  graph(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): GraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: inputs, output: outputs };
  }
}

export function model(graph: GraphProto, metadata: Record<string, string> = {}, docString?: string): ModelProto {
  return {
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: OPSET },
      { domain: 'ai.onnx.ml', version: ML_OPSET },
      { domain: 'com.microsoft', version: MS_OPSET },
    ],
    producerName: 'mlops-temporal',
    producerVersion: '1',
    docString,
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
}

export { DataType };

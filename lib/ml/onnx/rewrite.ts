// Shared helpers for passes that rewrite an exported model's dense layers (quantisation, pruning).
import { DataType, ModelProto, NodeProto, TensorProto } from './proto';

/** MatMul nodes whose right-hand side is a 2-D float initializer: the dense layers' weights. */
export function denseWeights(m: ModelProto): { node: NodeProto; weight: TensorProto }[] {
  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  const out: { node: NodeProto; weight: TensorProto }[] = [];
  for (const node of m.graph.node) {
    if (node.opType !== 'MatMul' || (node.domain ?? '') !== '') continue;
    const w = inits.get(node.input[1]);
    if (w && w.dataType === DataType.FLOAT && (w.dims ?? []).length === 2) out.push({ node, weight: w });
  }
  return out;
}

export function setMeta(m: ModelProto, key: string, value: string): void {
  m.metadataProps = (m.metadataProps ?? []).filter((p) => p.key !== key);
  m.metadataProps.push({ key, value });
}

// A command trainer's parameter count is read from the ONNX model it wrote (the initializers of
// the main graph), so a run trained by any process reports a real count, not a placeholder.
import { onnxInitializerElements } from '../../../lib/ml/model-format';
import { encodeModel, floatTensor, IR_VERSION, OPSET } from '../../../lib/ml/onnx/proto';

const model = (initializer: ReturnType<typeof floatTensor>[]) =>
  encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'test',
    producerVersion: '1',
    graph: { name: 'g', node: [], initializer, input: [], output: [] },
    metadataProps: [],
  });

describe('onnxInitializerElements', () => {
  it('sums the elements of every initializer: a 3x4 weight, a bias of 4 and a scalar', () => {
    const bytes = model([
      floatTensor('w', [3, 4], new Float32Array(12)),
      floatTensor('b', [4], new Float32Array(4)),
      floatTensor('s', [], [1]),
    ]);
    expect(onnxInitializerElements(bytes)).toBe(17);
  });

  it('reads packed dims as other exporters write them', () => {
    // TensorProto { dims: packed [2, 5], data_type: FLOAT, name: "w" } inside graph field 5.
    const tensor = Buffer.from([0x0a, 0x02, 0x02, 0x05, 0x10, 0x01, 0x42, 0x01, 0x77]);
    const graph = Buffer.concat([Buffer.from([0x2a, tensor.length]), tensor]);
    const bytes = Buffer.concat([Buffer.from([0x08, 0x08, 0x3a, graph.length]), graph]);
    expect(onnxInitializerElements(bytes)).toBe(10);
  });

  it('counts nothing in a graph without initializers', () => {
    expect(onnxInitializerElements(model([]))).toBe(0);
  });
});

// Attack checklist, model formats (docs/security.md): only ONNX is loaded. Pickle-based files
// (pickle, joblib, torch.save, .npy with objects, Keras .h5) run code when loaded; they are named
// and refused, and so is anything that does not parse as an ONNX model or that points its
// tensors at external files. createSession, the one place models are loaded, enforces it.
import { gzipSync, deflateSync } from 'node:zlib';
import { assertOnnxModel, ModelFormatError, sniffForeignFormat } from '../../../lib/ml/model-format';
import { MlInputError } from '../../../lib/ml/errors';
import { buildStepModel } from '../../../lib/ml/training-graph';
import { createSession } from '../../../lib/ml/ort';

// Protobuf by hand (field numbers from onnx.proto), to build models our encoder would not.
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const len = (field: number, payload: Buffer | string) =>
  Buffer.concat([varint(field * 8 + 2), varint(Buffer.byteLength(payload)), Buffer.from(payload)]);
const int = (field: number, value: number) => Buffer.concat([varint(field * 8), varint(value)]);

const valueInfo = (name: string) =>
  Buffer.concat([len(1, name), len(2, len(1, Buffer.concat([int(1, 1), len(2, len(1, int(1, 1)))])))]);
/** y = Add(x, w) with the initializer w given as TensorProto bytes; optional extra graph parts. */
function addModel(w: Buffer, extraGraph: Buffer = Buffer.alloc(0)): Buffer {
  const node = Buffer.concat([len(1, 'x'), len(1, 'w'), len(2, 'y'), len(4, 'Add')]);
  const graph = Buffer.concat([
    len(1, node),
    len(2, 'g'),
    len(5, w),
    len(11, valueInfo('x')),
    len(12, valueInfo('y')),
    extraGraph,
  ]);
  return Buffer.concat([int(1, 8), len(7, graph), len(8, Buffer.concat([len(1, ''), int(2, 13)]))]);
}
const inlineW = Buffer.concat([int(1, 1), int(2, 1), len(8, 'w'), len(9, Buffer.from(new Float32Array([1]).buffer))]);
// data_location = EXTERNAL (13) and external_data { key: "location", value: "../../../etc/passwd" } (14)
const externalW = Buffer.concat([
  int(1, 1),
  int(2, 1),
  len(8, 'w'),
  len(14, Buffer.concat([len(1, 'location'), len(2, '../../../etc/passwd')])),
  int(13, 1),
]);

// pickle.dumps(obj, protocol=4) where obj.__reduce__ returns (os.system, ("echo pwned",)).
const PICKLE4 = Buffer.from(
  '80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e',
  'hex'
);
const PICKLE2 = Buffer.concat([Buffer.from([0x80, 0x02]), PICKLE4.subarray(2)]);
const PICKLE0 = Buffer.from('cposix\nsystem\n(Vecho pwned\ntR.', 'latin1');

const FOREIGN: [string, Buffer, RegExp][] = [
  ['pickle protocol 4', PICKLE4, /Python pickle \(protocol 4\)/],
  ['pickle protocol 2', PICKLE2, /Python pickle \(protocol 2\)/],
  ['pickle protocol 0', PICKLE0, /Python pickle \(protocol 0\/1\)/],
  [
    'torch.save zip (.pt)',
    Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(60)]),
    /ZIP archive \(PyTorch/,
  ],
  ['joblib gzip', gzipSync(PICKLE4), /gzip-compressed/],
  ['joblib zlib', deflateSync(PICKLE4), /zlib-compressed/],
  ['joblib bz2', Buffer.from('BZh91AY&SY', 'latin1'), /bzip2/],
  ['joblib xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]), /xz/],
  ['numpy .npy', Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY\x01\x00v\x00{'descr': '|O'")]), /NumPy/],
  ['keras .h5', Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /HDF5/],
  ['safetensors', Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]), /safetensors/],
  ['JSON', Buffer.from('{"fixture":true}'), /JSON or text/],
  ['empty', Buffer.alloc(0), /empty file/],
];

describe('assertOnnxModel', () => {
  it.each(FOREIGN)('names and refuses %s', (_name, bytes, what) => {
    const err = (() => {
      try {
        assertOnnxModel(bytes, 'model.onnx');
        return null;
      } catch (e) {
        return e as ModelFormatError;
      }
    })();
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err).toBeInstanceOf(MlInputError); // mapped to a non-retryable failure by the activities
    expect(err!.name).toBe('MlInputError');
    expect(err!.message).toMatch(what);
    expect(err!.message).toMatch(
      /^model\.onnx is .*, not ONNX\. Only ONNX models are accepted.*Export the model to ONNX/
    );
  });

  it('accepts the models we build ourselves, subgraphs included', () => {
    expect(() => assertOnnxModel(buildStepModel({ sizes: [4, 8, 3], head: 'softmax' }, 1e-4))).not.toThrow();
    expect(() => assertOnnxModel(addModel(inlineW))).not.toThrow();
  });

  it('refuses bytes that are not an ONNX ModelProto', () => {
    const good = addModel(inlineW);
    expect(() => assertOnnxModel(good.subarray(0, good.length - 3))).toThrow(/not a valid ONNX model \(.*past the end/);
    expect(() => assertOnnxModel(Buffer.from([0x12, 0x01, 0x61]))).toThrow(
      /not a valid ONNX model \(no valid ir_version\)/
    );
    expect(() => assertOnnxModel(int(1, 8))).toThrow(/not a valid ONNX model \(no graph\)/);
    expect(() => assertOnnxModel(Buffer.from([0x0b, 0x00]))).toThrow(/wire type 3/);
  });

  it('refuses tensors whose data lives in an external file, at any depth', () => {
    expect(() => assertOnnxModel(addModel(externalW), 'model.onnx')).toThrow(
      /model\.onnx is ONNX but an initializer of the main graph stores its data in an external file/
    );
    // The same tensor as a Constant node's attribute inside an If's subgraph.
    const constant = Buffer.concat([
      len(2, 'c'),
      len(4, 'Constant'),
      len(5, Buffer.concat([len(1, 'value'), len(5, externalW), int(20, 4)])),
    ]);
    const sub = Buffer.concat([len(1, constant), len(2, 'then'), len(12, valueInfo('c'))]);
    const ifNode = Buffer.concat([
      len(1, 'cond'),
      len(2, 'z'),
      len(4, 'If'),
      len(5, Buffer.concat([len(1, 'then_branch'), len(6, sub), int(20, 5)])),
    ]);
    expect(() => assertOnnxModel(addModel(inlineW, len(1, ifNode)))).toThrow(
      /a tensor attribute in a subgraph of the main graph stores its data in an external file/
    );
  });

  it('sniffs nothing foreign in a real ONNX model', () => {
    expect(sniffForeignFormat(addModel(inlineW))).toBeNull();
  });
});

describe('createSession (every model load)', () => {
  it('refuses a pickle before onnxruntime sees it, and loads ONNX', async () => {
    await expect(createSession(PICKLE4)).rejects.toThrow(/Python pickle \(protocol 4\), not ONNX/);
    await expect(createSession(addModel(externalW))).rejects.toThrow(/external file/);
    const session = await createSession(addModel(inlineW));
    expect(session.inputNames).toEqual(['x']);
  });
});

// Jest runs each test file in its own V8 realm, but onnxruntime-node's native binding returns
// typed arrays from Node's main realm, and onnxruntime-common checks `data instanceof Float32Array`
// against the test realm's constructor ("A float32 tensor's data must be type of function
// Float32Array()"). Sharing the main realm's typed-array constructors with the test realm makes
// both sides agree. Use it from a test file with the docblock
//   /** @jest-environment ./test/unit/ml/ort-environment.js */
// (any test that runs onnxruntime-node, including activity tests calling lib/ml, needs it).
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

const shared = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OrtEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of shared) this.global[name] = globalThis[name];
  }
}

// Under `npm run test:mutation`, Stryker's mixin reports per-test coverage from this environment.
module.exports = require('@stryker-mutator/jest-runner').mixinJestEnvironment(OrtEnvironment);

// One place that creates onnxruntime sessions, so threading and optimisation settings are the same
// for training, evaluation and serving.
import * as ort from 'onnxruntime-node';

export { ort };

export interface SessionSettings {
  /** Intra-op threads; default 1 because fleets scale out by worker replicas, not threads. */
  threads?: number;
}

export function createSession(bytes: Uint8Array, s: SessionSettings = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    intraOpNumThreads: s.threads ?? 1,
    interOpNumThreads: 1,
  });
}

export function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

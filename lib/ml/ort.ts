// One place that creates onnxruntime sessions, so threading and optimisation settings are the same
// for training, evaluation and serving.
import { existsSync } from 'fs';
import { dirname, join } from 'path';
import * as ort from 'onnxruntime-node';
import { assertOnnxModel } from './model-format';

export { ort };

export interface SessionSettings {
  /** Intra-op threads; default 1 because fleets scale out by worker replicas, not threads. */
  threads?: number;
  /**
   * 'cuda' asks for onnxruntime's CUDA execution provider (GPU workers). The npm package ships
   * the CPU build; when the CUDA provider libraries are not installed the session falls back to
   * the CPU provider, and `providerUsed` says which one ran.
   */
  executionProvider?: 'cpu' | 'cuda';
}

/** Which provider the most recent createSession call ended up with. */
export let providerUsed: 'cpu' | 'cuda' = 'cpu';

/** The CUDA provider ships as a separate library next to the binding; without it don't even try. */
export function cudaProviderInstalled(): boolean {
  try {
    const dist = dirname(require.resolve('onnxruntime-node'));
    const bin = join(dist, '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(
      join(bin, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so')
    );
  } catch {
    return false;
  }
}

export async function createSession(bytes: Uint8Array, s: SessionSettings = {}): Promise<ort.InferenceSession> {
  // Every model load goes through here, so nothing but inline-data ONNX is ever loaded
  // (throws ModelFormatError, a non-retryable MlInputError, otherwise).
  assertOnnxModel(bytes);
  const options: ort.InferenceSession.SessionOptions = {
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    intraOpNumThreads: s.threads ?? 1,
    interOpNumThreads: 1,
  };
  providerUsed = 'cpu';
  if (s.executionProvider === 'cuda' && cudaProviderInstalled()) {
    try {
      // Fatal-only logging for the attempt: a missing provider library is expected on CPU machines.
      const session = await ort.InferenceSession.create(bytes, {
        ...options,
        executionProviders: ['cuda', 'cpu'],
        logSeverityLevel: 4,
      });
      providerUsed = 'cuda';
      return session;
    } catch {
      providerUsed = 'cpu'; // provider not installed: same graph on the CPU
    }
  }
  return ort.InferenceSession.create(bytes, options);
}

export function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

// Which onnxruntime execution provider a GPU worker trains with, and why: chosen once at start
// from what the machine has (visible GPUs, the CUDA provider libraries that only the GPU image
// installs) and what the operator asked for, so the log says plainly when a GPU sits unused.
export type ExecutionProvider = 'cpu' | 'cuda';
export type ProviderSetting = 'auto' | ExecutionProvider;

export interface ProviderChoice {
  provider: ExecutionProvider;
  reason: string;
  /** True when the operator asked for CUDA and does not get it: worth a warning. */
  degraded: boolean;
}

export function selectExecutionProvider(
  setting: ProviderSetting,
  machine: { gpus: number; cudaProviderInstalled: boolean }
): ProviderChoice {
  if (setting === 'cpu') return { provider: 'cpu', reason: 'MLOPS_EXECUTION_PROVIDER=cpu', degraded: false };
  const missing = !machine.gpus
    ? 'no GPU visible (nvidia-smi found none: check the GPU request and the NVIDIA device plugin or container toolkit)'
    : !machine.cudaProviderInstalled
      ? "onnxruntime-node's CUDA provider is not installed (use the GPU image: docker build --target app-gpu)"
      : '';
  if (missing) return { provider: 'cpu', reason: missing, degraded: setting === 'cuda' };
  return {
    provider: 'cuda',
    reason: `${machine.gpus} GPU(s) visible and the CUDA provider installed`,
    degraded: false,
  };
}

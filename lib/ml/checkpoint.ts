// Training checkpoints: everything the loop needs to continue exactly where it stopped, as one
// compact binary blob (JSON header + raw float32 theta, Adam moments and best weights). The random
// streams are derived from (seed, epoch) so no generator state is stored.
import type { EpochInfo } from './types';

export interface CheckpointState {
  /** Hash of the spec and data shape; a checkpoint only resumes the run it came from. */
  fingerprint: string;
  /** Epochs completed. */
  epoch: number;
  /** Adam steps taken. */
  step: number;
  bestLoss: number;
  bestEpoch: number;
  wait: number;
  history: EpochInfo[];
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Weights of the best epoch so far; omitted from the bytes when it equals theta. */
  best: Float32Array;
}

const MAGIC = 0x4d4c434b; // 'MLCK'
const VERSION = 1;

export function encodeCheckpoint(s: CheckpointState): Uint8Array {
  const P = s.theta.length;
  const bestSeparate = s.bestEpoch !== s.epoch;
  const header = new TextEncoder().encode(
    JSON.stringify(
      {
        fingerprint: s.fingerprint,
        epoch: s.epoch,
        step: s.step,
        bestLoss: s.bestLoss,
        bestEpoch: s.bestEpoch,
        wait: s.wait,
        history: s.history,
        parameters: P,
        bestSeparate,
      },
      (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)
    )
  );
  const hLen = Math.ceil(header.length / 4) * 4;
  const arrays = bestSeparate ? [s.theta, s.m, s.v, s.best] : [s.theta, s.m, s.v];
  const out = new Uint8Array(12 + hLen + arrays.length * P * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, header.length, true);
  out.set(header, 12);
  arrays.forEach((a, i) => new Float32Array(out.buffer, 12 + hLen + i * P * 4, P).set(a));
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const copy = new Uint8Array(bytes);
  const dv = new DataView(copy.buffer);
  if (copy.length < 12 || dv.getUint32(0, true) !== MAGIC) throw new Error('not a training checkpoint (bad magic)');
  if (dv.getUint32(4, true) !== VERSION) throw new Error(`unsupported checkpoint version ${dv.getUint32(4, true)}`);
  const len = dv.getUint32(8, true);
  const h = JSON.parse(new TextDecoder().decode(copy.subarray(12, 12 + len)), (_k, v) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v
  );
  const P: number = h.parameters;
  const base = 12 + Math.ceil(len / 4) * 4;
  const arr = (i: number) => new Float32Array(copy.buffer, base + i * P * 4, P).slice();
  const theta = arr(0);
  return {
    fingerprint: h.fingerprint,
    epoch: h.epoch,
    step: h.step,
    bestLoss: h.bestLoss,
    bestEpoch: h.bestEpoch,
    wait: h.wait,
    history: h.history,
    theta,
    m: arr(1),
    v: arr(2),
    best: h.bestSeparate ? arr(3) : theta.slice(),
  };
}

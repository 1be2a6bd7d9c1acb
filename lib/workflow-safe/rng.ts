// Seeded randomness. Every random stream (split, init, each epoch's shuffle) is derived from the
// seed and a stream id instead of advancing one global generator, so resuming at epoch e needs no
// generator state in the checkpoint and still shuffles exactly as the uninterrupted run did.

/** FNV-1a over a string: a stable 32-bit id for stream names and fingerprints. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny, fast, good enough for shuffles and weight init. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The stream `stream` of `seed`: independent of how far any other stream has advanced. */
export function rng(seed: number, stream: string): () => number {
  return mulberry32(hash32(`${seed}:${stream}`) ^ Math.imul(seed | 0, 0x9e3779b1));
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(a: T, rand: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

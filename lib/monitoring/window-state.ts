// The accumulated state of a monitoring window as plain JSON, so that windows can be filled in
// parts (each inference server sketches its own traffic per time bucket) and merged later (the
// monitoring activity adds every server's bucket states). A state names the profile bins it was
// made on by a fingerprint: counts are only addable on the same bins, so a state made on another
// profile (another version, a re-profiled run) is refused instead of silently mis-binned. Pure.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CategoricalSketchState, ColumnProfile, NumericSketchState, ReferenceProfile } from './profile';

/** Bumped when the state's shape changes; a state of another version is refused. */
export const WINDOW_STATE_VERSION = 1;

export type ColumnState = NumericSketchState | CategoricalSketchState;

export interface WindowState {
  v: typeof WINDOW_STATE_VERSION;
  /** Fingerprint of the profile bins the counts were made on (binsFingerprint). */
  bins: string;
  requests: number;
  rows: number;
  predictionRows: number;
  /** One per profile feature, in the profile's order. */
  features: ColumnState[];
  prediction: ColumnState | null;
}

const count = z.number().int().min(0);
const side = z.object({ count, sum: z.number() });
const columnState = z.union([
  z.object({ counts: z.array(count), missing: count, below: side, above: side }).strict(),
  z.object({ counts: z.array(count), other: count, missing: count }).strict(),
]);
const windowState = z
  .object({
    v: z.literal(WINDOW_STATE_VERSION),
    bins: z.string().min(1).max(100),
    requests: count,
    rows: count,
    predictionRows: count,
    features: z.array(columnState),
    prediction: columnState.nullable(),
  })
  .strict();

/** A stored state (JSON text) checked for shape; throws naming what is wrong. */
export function parseWindowState(text: string): WindowState {
  const parsed = windowState.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`not a monitoring window state: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data as WindowState;
}

function binsOf(p: ColumnProfile): unknown[] {
  return p.type === 'numeric' ? [p.name, 'numeric', p.histogram.edges] : [p.name, 'categorical', p.categories];
}

/** What a state's counts depend on: each column's name, kind and bins (edges or categories). */
export function binsFingerprint(profile: Pick<ReferenceProfile, 'features' | 'prediction'>): string {
  const bins = [profile.features.map(binsOf), profile.prediction ? binsOf(profile.prediction) : null];
  return createHash('sha256').update(JSON.stringify(bins)).digest('hex').slice(0, 32);
}

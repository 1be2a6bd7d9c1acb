// Fingerprints of table rows, so the quality gate can tell which test rows a model was trained on.
// A retrain on growing data re-splits old rows into the new test split; scoring the champion on
// rows it learnt from flatters it and refuses every better challenger (issue 15). Each training
// split's row digests are stored with the model version; evaluation drops the test rows whose
// digest the champion holds. 16 bytes per row (truncated sha256: a collision only hides one row).
import { createHash } from 'node:crypto';
import type { Frame } from '../types';

export const ROW_HASH_BYTES = 16;

/** The digest of each row over `columns` (in that order): numbers as JS prints them, missing as empty. */
export function rowHashes(frame: Frame, columns: string[]): Buffer {
  const out = Buffer.alloc(frame.length * ROW_HASH_BYTES);
  const cols = columns.map((name) => {
    const c = frame.columns[name];
    if (c === undefined) throw new Error(`rowHashes: no column '${name}'`);
    return c;
  });
  for (let i = 0; i < frame.length; i++) {
    let row = '';
    for (const c of cols) {
      const v = c instanceof Float64Array ? (Number.isNaN(c[i]) ? '' : String(c[i])) : (c[i] ?? '');
      // Length-prefixed so ("a,b","c") and ("a","b,c") differ.
      row += `${v.length}:${v};`;
    }
    createHash('sha256')
      .update(row)
      .digest()
      .copy(out, i * ROW_HASH_BYTES, 0, ROW_HASH_BYTES);
  }
  return out;
}

/** The set of digests in a rowHashes() buffer, as hex strings. */
export function rowHashSet(buf: Buffer): Set<string> {
  const set = new Set<string>();
  for (let o = 0; o + ROW_HASH_BYTES <= buf.length; o += ROW_HASH_BYTES) {
    set.add(buf.subarray(o, o + ROW_HASH_BYTES).toString('hex'));
  }
  return set;
}

/** Indices of the rows of `frame` (hashed over `columns`) whose digest is not in `seen`. */
export function unseenRows(frame: Frame, columns: string[], seen: Set<string>): number[] {
  const mine = rowHashes(frame, columns);
  const keep: number[] = [];
  for (let i = 0; i < frame.length; i++) {
    const hex = mine.subarray(i * ROW_HASH_BYTES, (i + 1) * ROW_HASH_BYTES).toString('hex');
    if (!seen.has(hex)) keep.push(i);
  }
  return keep;
}

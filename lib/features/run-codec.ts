// Line formats of the feature engine's sort runs (see external-sort.ts): tab-separated, numbers
// as plain text, text cells JSON-quoted (so a tab or newline inside stays escaped and a text
// "1" stays text), null as nothing. Several times faster to write and read than JSON per
// record, and exact: a number reads back as the same double (String/Number round-trip; -0
// reads back as 0, which the training set CSV writes as 0 anyway).
import type { Cell } from './csv-records';
import type { LineCodec } from './external-sort';

function encodeCell(v: Cell): string {
  return v === null ? '' : typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function decodeCell(s: string): Cell {
  return s === '' ? null : s.charCodeAt(0) === 34 ? (JSON.parse(s) as string) : Number(s);
}

/** An entity key: raw unless it holds a tab or newline or starts with a quote. */
function encodeKey(k: string): string {
  return k.includes('\t') || k.includes('\n') || k.charCodeAt(0) === 34 ? JSON.stringify(k) : k;
}

function decodeKey(s: string): string {
  return s.charCodeAt(0) === 34 ? (JSON.parse(s) as string) : s;
}

/** `numbers…\tkey\tcells…`: the leading numeric fields, the key, then the cells ('!' for no match, nothing when undefined). */
function encode(nums: number[], k: string | undefined, cells?: Cell[] | null): string {
  let s = nums.join('\t');
  if (k !== undefined) s += '\t' + encodeKey(k);
  if (cells) for (const c of cells) s += '\t' + encodeCell(c);
  else if (cells === null) s += '\t!';
  return s;
}

function decodeCells(parts: string[], from: number): Cell[] | null {
  if (parts[from] === '!') return null;
  const v: Cell[] = new Array<Cell>(parts.length - from);
  for (let j = from; j < parts.length; j++) v[j - from] = decodeCell(parts[j]);
  return v;
}

export const featureRowCodec: LineCodec<{ k: string; t: number; v: Cell[] }> = {
  encode: (r) => encode([r.t], r.k, r.v),
  decode: (line) => {
    const p = line.split('\t');
    return { t: Number(p[0]), k: decodeKey(p[1]), v: decodeCells(p, 2) ?? [] };
  },
};

export const labelKeyCodec: LineCodec<{ k: string; t: number; i: number }> = {
  encode: (r) => encode([r.t, r.i], r.k),
  decode: (line) => {
    const p = line.split('\t');
    return { t: Number(p[0]), i: Number(p[1]), k: decodeKey(p[2]) };
  },
};

export const matchCodec: LineCodec<{ i: number; v: Cell[] | null }> = {
  encode: (r) => encode([r.i], undefined, r.v),
  decode: (line) => {
    const p = line.split('\t');
    return { i: Number(p[0]), v: decodeCells(p, 1) };
  },
};

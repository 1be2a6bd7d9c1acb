// Column builders: values arrive one row at a time from the CSV or JSONL stream and are kept in
// typed arrays (8 bytes a cell for the numeric view, 4 for the category code), never as one big
// string. At the end each column's type is decided (override, else inference) and the Frame
// column is produced: Float64Array with NaN for missing, or (string|null)[].
import type { ColumnType } from '../types';

/** Cell spellings read as missing (besides the empty string and JSON null). */
export const MISSING_TOKENS = new Set(['NA', 'N/A', 'n/a', 'na', 'NaN', 'nan', 'null', 'NULL', 'None', '?', '-']);
/** Above this many distinct text values a column cannot be a categorical feature. */
export const MAX_CATEGORIES = 10_000;
/** Bad cells remembered per column (with their line numbers) for the validation report. */
export const MAX_SAMPLES = 20;

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A trimmed cell that reads as missing (empty or a MISSING_TOKENS spelling). */
export function isMissingCell(text: string): boolean {
  return text === '' || MISSING_TOKENS.has(text);
}

/** The number a trimmed, non-missing cell spells, or NaN when it is text. */
export function cellNumber(text: string): number {
  const v = Number(text);
  // Number() also reads "0x1f", "0b1", "0o7": keep those as text, like the strict grammar does.
  const radix = text.length > 1 && text.charCodeAt(0) === 48 && /[xXbBoO]/.test(text[1]);
  return Number.isFinite(v) && !radix && (v !== 0 || NUMBER_RE.test(text)) ? v : NaN;
}

export interface BadCell {
  line: number;
  value: string;
}

export interface ColumnSummary {
  name: string;
  type: ColumnType;
  /** How the type was decided. */
  source: 'inferred' | 'override';
  missing: number;
  distinct: number | null;
  /** Non-numeric cells of a numeric column: count and the first few with their line numbers. */
  nonNumeric: number;
  nonNumericSamples: BadCell[];
  /** Distinct text values exceeded MAX_CATEGORIES (only matters for categorical columns). */
  tooManyCategories: boolean;
  min?: number;
  max?: number;
  /** Every present value is an integer (numeric columns). */
  integer?: boolean;
}

function grow<T extends Float64Array | Int32Array | Uint32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let size = a.length * 2;
  while (size < need) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export class ColumnBuilder {
  private num = new Float64Array(1024);
  private codes = new Int32Array(1024);
  private dict = new Map<string, number>();
  private n = 0;
  missing = 0;
  numericCount = 0;
  nonNumeric = 0;
  nonNumericSamples: BadCell[] = [];
  tooManyCategories = false;
  private min = Infinity;
  private max = -Infinity;
  private integer = true;

  constructor(readonly name: string) {}

  get length(): number {
    return this.n;
  }

  push(raw: unknown, line: number): void {
    const i = this.n++;
    if (i >= this.num.length) {
      this.num = grow(this.num, i + 1);
      this.codes = grow(this.codes, i + 1);
    }
    let text: string;
    if (raw === null || raw === undefined) {
      this.setMissing(i);
      return;
    }
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) {
        this.setMissing(i);
        return;
      }
      this.setNumber(i, raw);
      text = String(raw);
    } else if (typeof raw === 'string') {
      text = raw.trim();
      if (isMissingCell(text)) {
        this.setMissing(i);
        return;
      }
      const v = cellNumber(text);
      if (!Number.isNaN(v)) this.setNumber(i, v);
      else {
        this.num[i] = NaN;
        this.nonNumeric++;
        if (this.nonNumericSamples.length < MAX_SAMPLES)
          this.nonNumericSamples.push({ line, value: text.slice(0, 80) });
      }
    } else if (typeof raw === 'boolean') {
      text = String(raw);
      this.num[i] = NaN;
      this.nonNumeric++;
      if (this.nonNumericSamples.length < MAX_SAMPLES) this.nonNumericSamples.push({ line, value: text });
    } else {
      // Nested JSON values are not tabular; keep their JSON text so the report can show them.
      text = JSON.stringify(raw).slice(0, 200);
      this.num[i] = NaN;
      this.nonNumeric++;
      if (this.nonNumericSamples.length < MAX_SAMPLES) this.nonNumericSamples.push({ line, value: text.slice(0, 80) });
    }
    if (!this.tooManyCategories) {
      let code = this.dict.get(text);
      if (code === undefined) {
        if (this.dict.size >= MAX_CATEGORIES) {
          this.tooManyCategories = true;
          this.dict.clear();
          return;
        }
        code = this.dict.size;
        this.dict.set(text, code);
      }
      this.codes[i] = code;
    }
  }

  private setMissing(i: number): void {
    this.num[i] = NaN;
    this.codes[i] = -1;
    this.missing++;
  }

  private setNumber(i: number, v: number): void {
    this.num[i] = v;
    this.numericCount++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.integer && !Number.isInteger(v)) this.integer = false;
  }

  /** Inferred type: numeric when every present cell is a number, or at least 90% are (the rest are errors). */
  inferType(): ColumnType {
    const present = this.n - this.missing;
    if (present === 0) return 'numeric';
    if (this.nonNumeric === 0) return 'numeric';
    return this.numericCount / present >= 0.9 ? 'numeric' : 'categorical';
  }

  summary(type: ColumnType, source: 'inferred' | 'override'): ColumnSummary {
    const s: ColumnSummary = {
      name: this.name,
      type,
      source,
      missing: this.missing,
      distinct: this.tooManyCategories ? null : this.dict.size,
      nonNumeric: type === 'numeric' ? this.nonNumeric : 0,
      nonNumericSamples: type === 'numeric' ? this.nonNumericSamples : [],
      tooManyCategories: this.tooManyCategories,
    };
    if (type === 'numeric' && this.numericCount > 0) {
      s.min = this.min;
      s.max = this.max;
      s.integer = this.integer;
    }
    return s;
  }

  numeric(): Float64Array {
    return this.num.slice(0, this.n);
  }

  categorical(): (string | null)[] {
    if (this.tooManyCategories)
      throw new Error(`column '${this.name}' has more than ${MAX_CATEGORIES} distinct values`);
    const names = new Array<string>(this.dict.size);
    for (const [k, v] of this.dict) names[v] = k;
    const out = new Array<string | null>(this.n);
    for (let i = 0; i < this.n; i++) {
      const c = this.codes[i];
      out[i] = c < 0 ? null : names[c];
    }
    return out;
  }
}

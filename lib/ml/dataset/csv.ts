// Streaming RFC 4180 CSV parser. Text is pushed in chunks of any size (a chunk may end inside a
// quoted field or between \r and \n) and complete records are handed to a callback with the
// physical line number they started on, so a 1 GB file is parsed in constant memory per record.
import { markErrorClass } from '../../workflow-safe/typed-error';

/** One CSV field, quoted only when it must be (RFC 4180). */
export function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export type RecordCallback = (fields: string[], line: number) => void;

export class CsvParseError extends Error {
  constructor(
    message: string,
    readonly line: number
  ) {
    super(message);
  }
}
markErrorClass(CsvParseError, 'CsvParseError');

export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  /** The previous char was a quote inside a quoted field: either an escape or the closing quote. */
  private quotePending = false;
  private pendingCR = false;
  private line = 1;
  private recordLine = 1;
  private started = false;
  private fieldTouched = false;

  constructor(
    private readonly onRecord: RecordCallback,
    private readonly delimiter = ','
  ) {}

  /** Text after the last newline, waiting for the rest of its line (fast path only). */
  private rest = '';

  push(chunk: string): void {
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM
    }
    if (this.rest) {
      text = this.rest + text;
      this.rest = '';
    }
    // Fast path: whole lines without quotes are split natively; a line with a quote (and any
    // continuation of a quoted field over several lines) goes through the state machine.
    let pos = 0;
    const n = text.length;
    let quote = -2; // index of the next '"' at or after pos (-1: none left), -2: not searched yet
    while (pos < n) {
      const nl = text.indexOf('\n', pos);
      if (this.inQuotes || this.fields.length > 0 || this.field.length > 0 || this.fieldTouched || this.pendingCR) {
        const end = nl === -1 ? n : nl + 1;
        this.slowPush(text.slice(pos, end));
        pos = end;
        continue;
      }
      if (nl === -1) {
        this.rest = text.slice(pos);
        return;
      }
      if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
      if (quote !== -1 && quote < nl) {
        this.slowPush(text.slice(pos, nl + 1));
        pos = nl + 1;
        continue;
      }
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--; // \r\n
      const line = text.slice(pos, end);
      pos = nl + 1;
      if (line.length > 0 && line.indexOf('\r') === -1) this.onRecord(line.split(this.delimiter), this.line);
      else if (line.length > 0) this.slowPush(line + '\n');
      else {
        this.line++;
        this.recordLine = this.line;
        continue;
      }
      if (line.indexOf('\r') === -1) {
        this.line++;
        this.recordLine = this.line;
      }
    }
  }

  private slowPush(text: string): void {
    const delim = this.delimiter;
    let start = 0; // start of the pending plain run in `text`
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text[i];
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (c === '"') {
            this.field += '"';
            start = i + 1;
            continue;
          }
          // The quote closed the field: only a delimiter or a line end may follow (RFC 4180), or
          // `"x"y` would silently become `xy`.
          if (c !== delim && c !== '\n' && c !== '\r') {
            throw new CsvParseError(
              `line ${this.line}: text after the closing quote of a field; quote the whole field and double inner quotes ("")`,
              this.line
            );
          }
          this.inQuotes = false; // fall through to the delimiter or line end
          start = i;
        } else {
          if (c === '"') {
            this.field += text.slice(start, i);
            this.quotePending = true;
            start = i + 1;
          } else if (c === '\n') {
            this.line++;
          }
          continue;
        }
      }
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === '\n') {
          start = i + 1;
          continue;
        }
      }
      if (c === delim) {
        this.field += text.slice(start, i);
        this.fields.push(this.field);
        this.field = '';
        this.fieldTouched = true;
        start = i + 1;
      } else if (c === '\n' || c === '\r') {
        this.field += text.slice(start, i);
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
        if (c === '\r') this.pendingCR = true;
        start = i + 1;
      } else if (c === '"') {
        const before = this.field + text.slice(start, i);
        if (before.length === 0) {
          this.inQuotes = true;
          this.fieldTouched = true;
          start = i + 1;
        } else {
          throw new CsvParseError(
            `line ${this.line}: a quote inside an unquoted field; quote the whole field and double inner quotes ("")`,
            this.line
          );
        }
      }
    }
    if (this.inQuotes && !this.quotePending) this.field += text.slice(start);
    else if (!this.inQuotes) this.field += text.slice(start);
  }

  end(): void {
    if (this.rest) {
      const last = this.rest;
      this.rest = '';
      this.slowPush(last);
    }
    if (this.inQuotes && !this.quotePending) {
      throw new CsvParseError(
        `line ${this.recordLine}: a quoted field is never closed; the file is truncated or has a stray quote`,
        this.recordLine
      );
    }
    this.inQuotes = false;
    this.quotePending = false;
    if (this.field.length > 0 || this.fields.length > 0 || this.fieldTouched) this.endRecord();
  }

  private endRecord(): void {
    this.fields.push(this.field);
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    const touched = this.fieldTouched;
    this.fieldTouched = false;
    // Blank lines are skipped.
    if (fields.length === 1 && fields[0] === '' && !touched) {
      this.recordLine = this.line + 1;
      return;
    }
    this.onRecord(fields, this.recordLine);
  }
}

/** Parses a whole string (tests and small inputs). */
export function parseCsvString(text: string, delimiter = ','): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  const p = new CsvParser((fields, line) => out.push({ fields, line }), delimiter);
  p.push(text);
  p.end();
  return out;
}

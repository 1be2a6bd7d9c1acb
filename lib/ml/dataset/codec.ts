// Compact binary form of a Frame for the artifact store (datasets and splits travel between
// activities as artifact references, never through Temporal payloads).
// Layout: "MLFR" | u32 LE header length | header JSON (utf8) | zero pad to 8 | column blocks.
// Numeric columns are float64 LE; categorical columns are int32 LE codes into the header's
// dictionary, -1 for null.
import type { Frame } from '../types';
import type { ColumnType } from '../types';

interface ColumnHeader {
  name: string;
  type: ColumnType;
  dict?: string[];
}
interface Header {
  format: 'mlops-frame/1';
  length: number;
  columns: ColumnHeader[];
}

const MAGIC = 0x52464c4d; // "MLFR" little-endian

export function encodeFrame(frame: Frame): Uint8Array {
  const header: Header = { format: 'mlops-frame/1', length: frame.length, columns: [] };
  const codes: Int32Array[] = [];
  for (const [name, col] of Object.entries(frame.columns)) {
    if (col instanceof Float64Array) {
      header.columns.push({ name, type: 'numeric' });
    } else {
      const dict = new Map<string, number>();
      const c = new Int32Array(frame.length);
      for (let i = 0; i < frame.length; i++) {
        const v = col[i];
        if (v === null || v === undefined) {
          c[i] = -1;
          continue;
        }
        let k = dict.get(v);
        if (k === undefined) dict.set(v, (k = dict.size));
        c[i] = k;
      }
      header.columns.push({ name, type: 'categorical', dict: [...dict.keys()] });
      codes.push(c);
    }
  }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 8 + headerBytes.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  let size = dataStart;
  for (const h of header.columns) size += (h.type === 'numeric' ? 8 : 4) * frame.length;
  size = Math.ceil(size / 8) * 8;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(headerBytes.length, 4);
  headerBytes.copy(out, 8);
  let off = dataStart;
  let ci = 0;
  for (const h of header.columns) {
    if (h.type === 'numeric') {
      const col = frame.columns[h.name] as Float64Array;
      Buffer.from(col.buffer, col.byteOffset, frame.length * 8).copy(out, off);
      off += frame.length * 8;
    } else {
      const c = codes[ci++];
      Buffer.from(c.buffer, c.byteOffset, frame.length * 4).copy(out, off);
      off += frame.length * 4;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function decodeFrame(bytes: Uint8Array): Frame {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not an encoded frame (bad magic)');
  const headerLen = buf.readUInt32LE(4);
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Header;
  if (header.format !== 'mlops-frame/1') throw new Error(`unknown frame format ${header.format}`);
  const n = header.length;
  const frame: Frame = { length: n, columns: {} };
  let off = Math.ceil((8 + headerLen) / 8) * 8;
  for (const h of header.columns) {
    if (h.type === 'numeric') {
      // Copy so the column owns an aligned buffer independent of the artifact bytes.
      const col = new Float64Array(n);
      new Uint8Array(col.buffer).set(buf.subarray(off, off + n * 8));
      frame.columns[h.name] = col;
      off += n * 8;
    } else {
      const c = new Int32Array(n);
      new Uint8Array(c.buffer).set(buf.subarray(off, off + n * 4));
      const dict = h.dict ?? [];
      const col = new Array<string | null>(n);
      for (let i = 0; i < n; i++) col[i] = c[i] < 0 ? null : dict[c[i]];
      frame.columns[h.name] = col;
      off += n * 4;
    }
  }
  return frame;
}

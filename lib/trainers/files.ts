// File helpers of the command trainer: a Frame written as CSV for the process to read, and a
// checkpoint folder packed into one blob for the artifact store (and unpacked on the next attempt,
// possibly on another worker).
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { csvField } from '../ml/dataset/csv';
import type { Frame } from '../ml/types';

/** The frame as CSV text with a header row; missing values are empty fields. */
export function frameToCsv(frame: Frame, columns: string[] = Object.keys(frame.columns)): string {
  const cols = columns.map((c) => frame.columns[c]);
  const lines = [columns.map(csvField).join(',')];
  for (let i = 0; i < frame.length; i++) {
    const row: string[] = [];
    for (const col of cols) {
      const v = col[i];
      if (typeof v === 'number') row.push(Number.isFinite(v) ? String(v) : '');
      else row.push(v == null ? '' : csvField(v));
    }
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/** Largest checkpoint folder we store (bigger states belong in the team's own storage). */
export const MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024;

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Packs every regular file under `dir`: u32 LE header length | header JSON | file bytes. */
export async function packFolder(dir: string): Promise<Uint8Array | null> {
  const files = await listFiles(dir).catch(() => []);
  if (!files.length) return null;
  const entries: { name: string; bytes: number }[] = [];
  const blobs: Buffer[] = [];
  let total = 0;
  for (const name of files) {
    const data = await readFile(path.join(dir, name));
    total += data.length;
    if (total > MAX_CHECKPOINT_BYTES) throw new Error(`checkpoint folder is over ${MAX_CHECKPOINT_BYTES} bytes`);
    entries.push({ name, bytes: data.length });
    blobs.push(data);
  }
  const header = Buffer.from(JSON.stringify({ format: 'mlops-folder/1', files: entries }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return new Uint8Array(Buffer.concat([len, header, ...blobs]));
}

/** Writes a packed folder back under `dir` (names are checked to stay inside it). */
export async function unpackFolder(bytes: Uint8Array, dir: string): Promise<number> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8')) as { files: { name: string; bytes: number }[] };
  let off = 4 + hlen;
  const root = path.resolve(dir);
  for (const f of header.files) {
    const target = path.resolve(root, f.name);
    if (!target.startsWith(root + path.sep)) throw new Error(`packed checkpoint names a path outside it: ${f.name}`);
    // A NUL can hide a segment from the check above ("a\0../../x" resolves inside); never valid.
    if (/[\x00-\x1f]/.test(f.name))
      throw new Error(`packed checkpoint names a file with control characters: ${JSON.stringify(f.name)}`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, buf.subarray(off, off + f.bytes));
    off += f.bytes;
  }
  return header.files.length;
}

/** A cheap signature of a folder's contents (names, sizes, mtimes) to notice changes. */
export async function folderSignature(dir: string): Promise<string> {
  const files = await listFiles(dir).catch(() => []);
  const parts: string[] = [];
  for (const f of files) {
    const s = await stat(path.join(dir, f)).catch(() => null);
    if (s) parts.push(`${f}:${s.size}:${s.mtimeMs}`);
  }
  return parts.join('|');
}

// Attack checklist, path traversal in artifact names (docs/security.md): a packed checkpoint folder
// is written back file by file on the next attempt, possibly on another worker, so a pack whose
// header names a file outside the folder must be refused before anything is written.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unpackFolder } from '../../../lib/trainers/files';

/** A pack in the packFolder layout: u32 LE header length | header JSON | file bytes. */
function pack(files: { name: string; data: string }[]): Uint8Array {
  const header = Buffer.from(
    JSON.stringify({ format: 'mlops-folder/1', files: files.map((f) => ({ name: f.name, bytes: f.data.length })) })
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return new Uint8Array(Buffer.concat([len, header, ...files.map((f) => Buffer.from(f.data))]));
}

describe('unpackFolder', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'pack-'));

  it.each(['../escaped.txt', 'a/../../escaped.txt', '/tmp/escaped-abs.txt', '.', ''])(
    'refuses a member named %j and writes nothing outside the folder',
    async (name) => {
      const dir = mkdtempSync(path.join(base, 'ck-'));
      await expect(unpackFolder(pack([{ name, data: 'owned' }]), dir)).rejects.toThrow(/outside it/);
      expect(existsSync(path.join(base, 'escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/escaped-abs.txt')).toBe(false);
    }
  );

  it('refuses a NUL in a member name', async () => {
    const dir = mkdtempSync(path.join(base, 'ck-'));
    await expect(unpackFolder(pack([{ name: 'state.json\0../../x', data: '{}' }]), dir)).rejects.toThrow(
      /control characters/
    );
  });

  it('writes ordinary members, subfolders included', async () => {
    const dir = mkdtempSync(path.join(base, 'ck-'));
    const n = await unpackFolder(
      pack([
        { name: 'state.json', data: '{"epoch":2}' },
        { name: 'opt/m.bin', data: 'xy' },
      ]),
      dir
    );
    expect(n).toBe(2);
    expect(readFileSync(path.join(dir, 'opt', 'm.bin'), 'utf8')).toBe('xy');
  });
});

// The batch splitter and chunk parser: chunks hold whole records (quoted fields spanning lines,
// blank lines, CRLF, a last line without a newline), cover every byte after the header once, and
// name each row's physical line, so an error points at the right line of the user's file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseChunk, checkColumns } from '../../../lib/batch/score';
import { splitCsvFile, type RawChunk } from '../../../lib/batch/split';

const dir = mkdtempSync(path.join(os.tmpdir(), 'split-'));
const schema = {
  features: [
    { name: 'x', type: 'numeric' as const },
    { name: 'c', type: 'categorical' as const },
  ],
};

async function split(text: string, maxRows: number, maxBytes = 1 << 20) {
  const file = path.join(dir, `f-${Math.random()}.csv`);
  writeFileSync(file, text);
  const chunks: RawChunk[] = [];
  const r = await splitCsvFile(
    file,
    { maxRows, maxBytes },
    { onHeader: () => {}, onChunk: async (c) => void chunks.push(c) }
  );
  return { r, chunks };
}

test('chunks hold whole records and name rows and lines exactly', async () => {
  const text = 'x,c,id\r\n1,a,r1\r\n\r\n2,"multi\nline",r2\n3,"q""uote",r3\nabc,b,r4\n5,c\n6,,r6';
  const { r, chunks } = await split(text, 2);
  expect(r.header).toEqual(['x', 'c', 'id']);
  expect(r.rows).toBe(6);
  expect(chunks.map((c) => [c.firstRow, c.firstLine, c.rows])).toEqual([
    [1, 2, 2],
    [3, 6, 2],
    [5, 8, 2],
  ]);
  expect(Buffer.concat(chunks.map((c) => c.bytes)).toString()).toBe(text.slice(text.indexOf('\n') + 1));
  const all = chunks.map((c) => parseChunk(c.bytes.toString(), r.header, schema, c, { idColumn: 'id' }));
  expect(all.flatMap((p) => Array.from(p.rowNumbers))).toEqual([1, 2, 3, 6]);
  expect(all[0].frame.columns.c).toEqual(['a', 'multi\nline']);
  expect(all.flatMap((p) => p.bad)).toEqual([
    { row: 4, line: 7, reason: "column 'x' is 'abc', which is not a number" },
    { row: 5, line: 8, reason: 'the row has 2 fields but the header has 3' },
  ]);
  expect(all[2].frame.columns.c).toEqual([null]); // missing category, as training reads it
  expect(all[2].ids).toEqual(['r6']);
});

test('the byte bound splits too, and a resumed parse skips what was done', async () => {
  const rows = Array.from({ length: 50 }, (_, i) => `${i},k${i % 3}`).join('\n');
  const { r, chunks } = await split(`x,c\n${rows}\n`, 1000, 64);
  expect(chunks.length).toBeGreaterThan(3);
  expect(chunks.reduce((n, c) => n + c.rows, 0)).toBe(50);
  const p = parseChunk(chunks[1].bytes.toString(), r.header, schema, chunks[1], { skip: 2 });
  expect(p.rowNumbers[0]).toBe(chunks[1].firstRow + 2);
  expect(p.records).toBe(chunks[1].rows - 2);
});

test('a missing column is named', () => {
  expect(() => checkColumns(['x', 'y'], schema, undefined, 'model m v1')).toThrow(
    "the input has no column 'c', which model m v1 needs (categorical); its columns are: x, y"
  );
  expect(() => checkColumns(['x', 'c'], schema, 'id', 'm')).toThrow("the id column 'id' is not in the input");
});

test('broken quoting is refused, naming the line of the file', async () => {
  await expect(split('x,c\n1,"open\n2,b\n', 10)).rejects.toThrow('line 2: a quoted field is never closed');
  const { r, chunks } = await split('x,c\n1,a\n2,b\n3,b"c"d\n', 2);
  expect(() => parseChunk(chunks[1].bytes.toString(), r.header, schema, chunks[1])).toThrow(
    'line 4: a quote inside an unquoted field'
  );
});

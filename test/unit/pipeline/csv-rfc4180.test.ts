// An RFC 4180 corpus run through our streaming parser (lib/ml/dataset/csv.ts) and through
// csv-parse, the well-kept library it was weighed against (issue 12, finding 9). Both must give
// the records each case expects; ours must also give each record's first line (datasets report
// problems by line) and the same records whatever the chunk boundaries. Malformed input must be
// refused by both, ours with the message and line the dataset reader shows.
// bench/ml/csv-parse.ts compares their speed.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { CsvParser, parseCsvString, readDataset } from '../../../lib/ml/dataset';

interface Case {
  name: string;
  text: string;
  records: string[][];
  /** The physical line each record starts on. */
  lines: number[];
}

const corpus: Case[] = [
  {
    name: 'plain fields, LF',
    text: 'a,b\n1,2\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'CRLF line ends',
    text: 'a,b\r\n1,2\r\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'CRLF and LF mixed',
    text: 'a,b\r\n1,2\n3,4\r\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ],
    lines: [1, 2, 3],
  },
  {
    name: 'no trailing newline',
    text: 'a,b\n1,2',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'no trailing newline after CRLF rows',
    text: 'a,b\r\n1,2',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'quoted fields',
    text: '"a","b"\n"1","2"\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'delimiter inside quotes',
    text: 'a,b\n"x,y",2\n',
    records: [
      ['a', 'b'],
      ['x,y', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'escaped quotes',
    text: 'a,b\n"he said ""hi""",2\n',
    records: [
      ['a', 'b'],
      ['he said "hi"', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'LF inside quotes',
    text: 'a,b\n"multi\nline",2\n3,4\n',
    records: [
      ['a', 'b'],
      ['multi\nline', '2'],
      ['3', '4'],
    ],
    lines: [1, 2, 4],
  },
  {
    name: 'CRLF inside quotes',
    text: 'a,b\r\n"multi\r\nline",2\r\n3,4\r\n',
    records: [
      ['a', 'b'],
      ['multi\r\nline', '2'],
      ['3', '4'],
    ],
    lines: [1, 2, 4],
  },
  {
    name: 'empty fields',
    text: 'a,b,c\n,,\n1,,3\n',
    records: [
      ['a', 'b', 'c'],
      ['', '', ''],
      ['1', '', '3'],
    ],
    lines: [1, 2, 3],
  },
  {
    name: 'empty quoted field',
    text: 'a,b\n"",x\n',
    records: [
      ['a', 'b'],
      ['', 'x'],
    ],
    lines: [1, 2],
  },
  {
    name: 'empty last field',
    text: 'a,b\n1,\n',
    records: [
      ['a', 'b'],
      ['1', ''],
    ],
    lines: [1, 2],
  },
  { name: 'a field that is only a quote', text: 'a\n""""\n', records: [['a'], ['"']], lines: [1, 2] },
  { name: 'a field that is only two quotes', text: 'a\n""""""\n', records: [['a'], ['""']], lines: [1, 2] },
  {
    name: 'quotes, delimiters and newlines in one field',
    text: 'a,b\n"x,""y""\nz",2\n',
    records: [
      ['a', 'b'],
      ['x,"y"\nz', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'UTF-8 byte order mark',
    text: '\ufeffa,b\n1,2\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
    lines: [1, 2],
  },
  {
    name: 'blank lines are skipped',
    text: 'a,b\n\n1,2\n\r\n3,4\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ],
    lines: [1, 3, 5],
  },
  {
    name: 'spaces are part of a field',
    text: 'a,b\n 1 , x y \n',
    records: [
      ['a', 'b'],
      [' 1 ', ' x y '],
    ],
    lines: [1, 2],
  },
  {
    name: 'non-ASCII text',
    text: 'name,city\n"Zoë","Kraków, PL"\n',
    records: [
      ['name', 'city'],
      ['Zoë', 'Kraków, PL'],
    ],
    lines: [1, 2],
  },
  {
    name: 'ragged rows are records of their own length (the reader refuses them)',
    text: 'a,b,c\n1,2\n3,4,5,6\n',
    records: [
      ['a', 'b', 'c'],
      ['1', '2'],
      ['3', '4', '5', '6'],
    ],
    lines: [1, 2, 3],
  },
];

/**
 * csv-parse with the settings our parser has built in: BOM dropped, blank lines skipped, any row
 * length, and both line ends everywhere (by default csv-parse takes the first line's end as the
 * only one, so after a CRLF header a lone LF would be data inside a field).
 */
const library = (text: string): string[][] =>
  parse(text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
  }) as string[][];

function oursInChunks(text: string, size: number): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  const p = new CsvParser((fields, line) => out.push({ fields, line }));
  for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
  p.end();
  return out;
}

describe('RFC 4180 corpus', () => {
  it.each(corpus)('$name', ({ text, records, lines }) => {
    const ours = parseCsvString(text);
    expect(ours.map((r) => r.fields)).toEqual(records);
    expect(ours.map((r) => r.line)).toEqual(lines);
    for (const size of [1, 2, 3, 7]) expect(oursInChunks(text, size)).toEqual(ours);
    expect(library(text)).toEqual(records);
  });
});

describe('malformed CSV is refused by both', () => {
  const refused: { name: string; text: string; ours: RegExp }[] = [
    { name: 'an unclosed quote', text: 'a,b\n1,"open\n2,3\n', ours: /^line 2: a quoted field is never closed/ },
    {
      name: 'a quote inside an unquoted field',
      text: 'a,b\n1,x"y\n',
      ours: /^line 2: a quote inside an unquoted field/,
    },
    {
      name: 'a space before an opening quote',
      text: 'a,b\n1, "x"\n',
      ours: /^line 2: a quote inside an unquoted field/,
    },
    {
      name: 'text after a closing quote',
      text: 'a,b\n"x"y,2\n',
      ours: /^line 2: text after the closing quote of a field/,
    },
    { name: 'a space after a closing quote', text: 'a,b\n"x" ,2\n', ours: /^line 2: text after the closing quote/ },
    {
      name: 'text after a closing quote, on the second line of a field',
      text: 'a,b\n"x\ny"z,2\n',
      ours: /^line 3: text after the closing quote/,
    },
  ];
  it.each(refused)('$name', ({ text, ours }) => {
    expect(() => parseCsvString(text)).toThrow(ours);
    expect(() => library(text)).toThrow();
  });

  it('a ragged row is reported by the dataset reader with its line, as csv-parse reports it by default', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'csv-rfc-'));
    const file = path.join(dir, 'ragged.csv');
    const text = 'a,b,c\n1,2,3\n4,5\n';
    await writeFile(file, text);
    const r = await readDataset(file, { format: 'csv' });
    expect(r.issues.find((i) => i.code === 'ragged_row')?.message).toBe(
      'line 3 has 2 fields but the header has 3; fix the row (quote fields that contain commas)'
    );
    expect(() => parse(text)).toThrow(/Invalid Record Length: expect 3, got 2 on line 3/);
  });
});

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildValidationReport,
  bundledDataset,
  decodeFrame,
  encodeFrame,
  parseCsvString,
  readDataset,
  reportErrorMessage,
  resolveUnderRoot,
  splitIndices,
  syntheticCsvLines,
  takeRows,
  writeSyntheticCsv,
  CsvParser,
} from '../../../lib/ml/dataset';
import { createHash } from 'node:crypto';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ds-'));
});

async function csv(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('CSV parser', () => {
  it('handles quotes, escaped quotes, CRLF and newlines inside quotes', () => {
    const rows = parseCsvString('a,b,c\r\n1,"x,y",3\r\n"he said ""hi""",2,"multi\nline"\n\n4,5,6');
    expect(rows.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x,y', '3'],
      ['he said "hi"', '2', 'multi\nline'],
      ['4', '5', '6'],
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 6]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'a,b\n"q""x",2\r\n3,"4\n5"\n';
    const whole = parseCsvString(text).map((r) => r.fields);
    for (let size = 1; size <= 5; size++) {
      const out: string[][] = [];
      const p = new CsvParser((f) => out.push(f));
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      p.end();
      expect(out).toEqual(whole);
    }
  });

  it('refuses an unclosed quote with its line', () => {
    expect(() => parseCsvString('a,b\n1,"open\n')).toThrow(/line 2: a quoted field is never closed/);
  });
});

describe('readDataset + validation report', () => {
  it('reads bundled penguins: types, missing values, class balance, sha256', async () => {
    const { file, format } = bundledDataset('penguins');
    const r = await readDataset(file, { format });
    expect(r.rows).toBe(344);
    const types = Object.fromEntries(r.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      species: 'categorical',
      island: 'categorical',
      bill_length_mm: 'numeric',
      sex: 'categorical',
    });
    expect(r.sha256).toBe(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex')
    );
    const report = buildValidationReport(r, { target: 'species' });
    expect(report.ok).toBe(true);
    expect(report.task).toBe('classification');
    expect(report.classBalance?.map((c) => c.label)).toEqual(['Adelie', 'Gentoo', 'Chinstrap']);
    expect(report.columns.find((c) => c.name === 'bill_length_mm')?.missing).toBe(2);
    expect(report.features.map((f) => f.name)).not.toContain('species');
  });

  it('reads bundled auto-mpg JSONL and infers regression', async () => {
    const { file, format } = bundledDataset('auto-mpg');
    const r = await readDataset(file, { format, drop: ['name'] });
    expect(r.rows).toBe(406);
    const report = buildValidationReport(r, { target: 'mpg', drop: ['name'] });
    expect(report.ok).toBe(true);
    expect(report.task).toBe('regression');
    expect(report.missingTargetRows).toBe(8);
    expect(report.warnings.some((w) => w.code === 'missing_target')).toBe(true);
  });

  it('applies type overrides', async () => {
    const p = await csv('codes.csv', 'zip,y\n1001,0\n1002,1\n1001,1\n');
    const r = await readDataset(p, { format: 'csv', types: { zip: 'categorical' } });
    expect(r.frame.columns.zip).toEqual(['1001', '1002', '1001']);
    expect(buildValidationReport(r, { target: 'y' }).task).toBe('classification');
  });

  it('reports non-numeric values in a numeric column with line numbers, and fails', async () => {
    const lines = ['a,b,y'];
    for (let i = 0; i < 30; i++) lines.push(`${i},${i % 3 === 0 ? 'x' : 'y'},${i % 2}`);
    lines[12] = '11,y,oops'; // line 13
    const p = await csv('bad.csv', lines.join('\n') + '\n');
    const r = await readDataset(p, { format: 'csv' });
    const report = buildValidationReport(r, { target: 'a', task: 'regression' });
    expect(report.ok).toBe(false);
    const e = report.errors.find((x) => x.code === 'non_numeric_value');
    expect(e).toMatchObject({ column: 'y', line: 13 });
    expect(e?.message).toContain(`line 13: "oops"`);
    expect(reportErrorMessage(report)).toMatch(/column 'y' is numeric/);
  });

  it('reports ragged rows, unknown target, constant columns, one class, empty data', async () => {
    const p = await csv('ragged.csv', 'a,b,k\n1,2,z\n3,4\n5,6,z\n');
    const r = await readDataset(p, { format: 'csv' });
    expect(r.rows).toBe(2);
    const rep = buildValidationReport(r, { target: 'k' });
    expect(rep.errors.map((e) => e.code).sort()).toEqual(['ragged_row', 'single_class']);
    expect(rep.errors.find((e) => e.code === 'ragged_row')?.line).toBe(3);
    expect(buildValidationReport(r, { target: 'nope' }).errors[1].message).toMatch(/set "target" to one of: a, b, k/);

    const c = await readDataset(await csv('const.csv', 'a,b,k\n1,7,p\n2,7,q\n3,7,p\n'), { format: 'csv' });
    const cr = buildValidationReport(c, { target: 'k' });
    expect(cr.ok).toBe(true);
    expect(cr.warnings.map((w) => w.code)).toContain('constant_column');
    expect(cr.features.map((f) => f.name)).toEqual(['a']);

    const e = await readDataset(await csv('empty.csv', 'a,b\n'), { format: 'csv' });
    expect(buildValidationReport(e, { target: 'b' }).errors[0].code).toBe('empty_dataset');
  });

  it('refuses binary garbage at once', async () => {
    const p = path.join(dir, 'garbage.csv');
    await writeFile(p, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x10]));
    await expect(readDataset(p, { format: 'csv' })).rejects.toThrow(/NUL bytes/);
  });

  it('reports bad JSON lines by line', async () => {
    const p = await csv('bad.jsonl', '{"a":1,"y":2}\n{"a":2,\n{"a":3,"y":4}\n[1]\n');
    const r = await readDataset(p, { format: 'jsonl' });
    expect(r.rows).toBe(2);
    expect(r.issues.map((i) => [i.code, i.line])).toEqual([
      ['bad_json', 2],
      ['not_an_object', 4],
    ]);
  });
});

describe('split, codec, synthetic, paths', () => {
  it('splits seeded and stratified', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 80 ? 'a' : 'b'));
    const s1 = splitIndices(100, { test: 0.2, seed: 7, stratifyBy: labels });
    const s2 = splitIndices(100, { test: 0.2, seed: 7, stratifyBy: labels });
    expect(Array.from(s1.test)).toEqual(Array.from(s2.test));
    expect(s1.test.length).toBe(20);
    expect(Array.from(s1.test).filter((i) => labels[i] === 'b').length).toBe(4);
    expect(new Set([...s1.train, ...s1.test]).size).toBe(100);
    expect(Array.from(splitIndices(100, { test: 0.2, seed: 8 }).test)).not.toEqual(Array.from(s1.test));
  });

  it('round-trips frames through the binary codec', () => {
    const f = { length: 3, columns: { x: new Float64Array([1.5, NaN, -2]), c: ['a', null, 'b'] } };
    const back = decodeFrame(encodeFrame(f));
    expect(back.length).toBe(3);
    expect(Array.from(back.columns.x as Float64Array)).toEqual([1.5, NaN, -2]);
    expect(back.columns.c).toEqual(['a', null, 'b']);
    expect(takeRows(back, [2, 0], ['c']).columns).toEqual({ c: ['b', 'a'] });
  });

  it('generates the same synthetic data for the same seed, of any size', async () => {
    const o = {
      task: 'classification' as const,
      rows: 500,
      numeric: 3,
      categorical: 1,
      classes: 3,
      noise: 0.1,
      missing: 0.01,
      seed: 5,
    };
    const a = [...syntheticCsvLines(o)].join('');
    expect([...syntheticCsvLines(o)].join('')).toBe(a);
    expect([...syntheticCsvLines({ ...o, seed: 6 })].join('')).not.toBe(a);
    const p = path.join(dir, 'syn.csv');
    await writeSyntheticCsv(p, o);
    const r = await readDataset(p, { format: 'csv' });
    expect(r.rows).toBe(500);
    const rep = buildValidationReport(r, { target: 'target' });
    expect(rep.ok).toBe(true);
    expect(rep.classBalance?.length).toBe(3);
  });

  it('refuses dataset paths outside the root', async () => {
    await csv('inside.csv', 'a\n1\n');
    await expect(resolveUnderRoot(dir, 'inside.csv')).resolves.toMatch(/inside\.csv$/);
    await expect(resolveUnderRoot(dir, '../etc/passwd')).rejects.toThrow(/outside the datasets root/);
    await expect(resolveUnderRoot(dir, '/etc/passwd')).rejects.toThrow(/outside the datasets root/);
    await expect(resolveUnderRoot(dir, 'missing.csv')).rejects.toThrow(/does not exist/);
    expect(() => bundledDataset('nope')).toThrow(/bundled datasets are: penguins, auto-mpg/);
  });
});

describe('drop list', () => {
  it('warns about dropped columns the data does not have', async () => {
    const p = path.join(dir, 'drop.csv');
    await writeFile(p, 'a,b,y\n1,2,x\n3,4,z\n');
    const r = await readDataset(p, { format: 'csv', drop: ['b', 'nope'] });
    expect(Object.keys(r.frame.columns)).toEqual(['a', 'y']);
    expect(r.issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'unknown_drop', column: 'nope' })]);
    expect(buildValidationReport(r, { target: 'y', drop: ['b', 'nope'] }).warnings.map((w) => w.code)).toContain(
      'unknown_drop'
    );
  });

  it('keeps hex-looking and infinite cells as text', async () => {
    const p = path.join(dir, 'hex.csv');
    await writeFile(p, 'h,y\n0x10,1\nInfinity,2\n0,3\n');
    const r = await readDataset(p, { format: 'csv' });
    expect(r.columns.find((c) => c.name === 'h')?.type).toBe('categorical');
  });
});

// Attack checklist, path traversal (docs/security.md): every dataset path an attacker might try is
// refused by its text, with a message saying how to fix it; the ordinary forms still pass, and
// resolveUnderRoot (the ingest step) refuses them too. The pattern the OpenAPI document states
// for a dataset path (lib/spec/dataset-path.ts) gives the same answer as the check, path by path.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetPathProblem, resolveUnderRoot } from '../../../lib/ml/dataset/paths';
import { datasetPath, datasetPathPattern } from '../../../lib/spec/dataset-path';
import { toJsonSchema } from '../../../api/zod-json-schema';
import { TRAVERSALS } from './attack-inputs';

const ACCEPTED = ['penguins.csv', 'customers/eu/train.csv', 'a..b.csv', '...csv', 'v1.2/data.jsonl'];

describe('datasetPathProblem', () => {
  it.each(TRAVERSALS)('refuses %j', (p, why) => {
    const problem = datasetPathProblem(p);
    expect(problem).toMatch(why);
    expect(problem).toMatch(/datasets root/); // says what to do instead
  });

  it.each(ACCEPTED)('accepts %j', (p) => {
    expect(datasetPathProblem(p)).toBeNull();
  });
});

describe('the dataset path pattern of the document', () => {
  const pattern = new RegExp(datasetPathPattern());
  const more = ['a/', 'a/.', 'a/./b', '.', '.hidden', 'x%41', 'x%', 'dir/..x', 'é/ü.csv', 'a:b', '1:b', 'C:', 'C:/x'];

  it.each([...TRAVERSALS.map(([p]) => p), ...ACCEPTED, ...more])('agrees with datasetPathProblem on %j', (p) => {
    expect(pattern.test(p)).toBe(datasetPathProblem(p) === null);
  });

  it('is what the generated JSON Schema of the field states', () => {
    expect(toJsonSchema(datasetPath)).toMatchObject({ type: 'string', pattern: datasetPathPattern() });
  });
});

describe('resolveUnderRoot', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ds-root-'));
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'sub', 'ok.csv'), 'a\n1\n');

  it('refuses every traversal form before touching the file system', async () => {
    for (const [p, why] of TRAVERSALS) await expect(resolveUnderRoot(root, p)).rejects.toThrow(why);
  });

  it('still resolves a plain relative path', async () => {
    await expect(resolveUnderRoot(root, 'sub/ok.csv')).resolves.toBe(path.join(root, 'sub', 'ok.csv'));
  });
});

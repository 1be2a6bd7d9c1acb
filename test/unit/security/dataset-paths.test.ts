// Attack checklist, path traversal (docs/security.md): every dataset path an attacker might try is
// refused by its text, with a message saying how to fix it; the ordinary forms still pass, and
// resolveUnderRoot (the ingest step) refuses them too.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetPathProblem, resolveUnderRoot } from '../../../lib/ml/dataset/paths';
import { TRAVERSALS } from './attack-inputs';

describe('datasetPathProblem', () => {
  it.each(TRAVERSALS)('refuses %j', (p, why) => {
    const problem = datasetPathProblem(p);
    expect(problem).toMatch(why);
    expect(problem).toMatch(/datasets root/); // says what to do instead
  });

  it.each(['penguins.csv', 'customers/eu/train.csv', 'a..b.csv', '...csv', 'v1.2/data.jsonl'])('accepts %j', (p) => {
    expect(datasetPathProblem(p)).toBeNull();
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

// The layer rules of eslint.config.mjs, checked against code that breaks them. Without this a
// rule that silently stopped matching (a renamed folder, a glob typo) would leave `npm run lint`
// green while workflows import I/O. The probes are real files under workflows/ and lib/ because
// the type-aware rules only see files that belong to the TypeScript project. ESLint runs as
// `npm run lint` runs it, in a child process (its ESM config cannot load inside jest's VM).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const ESLINT = path.join(ROOT, 'node_modules/eslint/bin/eslint.js');

function lintProbe(relPath: string, code: string): string[] {
  const file = path.join(ROOT, relPath);
  writeFileSync(file, code);
  try {
    let out: string;
    try {
      out = execFileSync(process.execPath, [ESLINT, '--format', 'json', file], { cwd: ROOT, encoding: 'utf8' });
    } catch (err) {
      out = (err as { stdout: string }).stdout; // exit status 1: problems found
    }
    const [result] = JSON.parse(out) as { messages: { ruleId: string | null; message: string }[] }[];
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  } finally {
    rmSync(file, { force: true });
  }
}

const probe = `lint-probe-${process.pid}.ts`;

describe('layer rules (eslint.config.mjs)', () => {
  it('refuses a workflow that imports lib/store, pure lib outside lib/workflow-safe, a Node built-in, or leaves a promise floating', () => {
    const messages = lintProbe(
      `workflows/${probe}`,
      [
        "import { readArtifact } from '../lib/store/artifacts';",
        "import { readFileSync } from 'node:fs';",
        "import type { ArtifactRef } from '../lib/store/artifacts';",
        "import { STAGE } from '../lib/workflow-safe/search-attributes';",
        "import { parseDuration } from '../lib/spec/duration';",
        'export const used = [readArtifact, readFileSync, STAGE, parseDuration] as unknown as ArtifactRef;',
        'async function later(): Promise<void> {}',
        'export function forget(): void {',
        '  later();',
        '}',
        '',
      ].join('\n')
    );
    expect(messages).toEqual([
      expect.stringMatching(
        /^@typescript-eslint\/no-restricted-imports: '\.\.\/lib\/store\/artifacts' import is restricted/
      ),
      expect.stringMatching(/^import-x\/no-nodejs-modules: .*node:fs/),
      expect.stringMatching(
        /^@typescript-eslint\/no-restricted-imports: '\.\.\/lib\/spec\/duration' import is restricted/
      ),
      expect.stringMatching(/^@typescript-eslint\/no-floating-promises: /),
    ]);
  }, 180_000);

  it('refuses workflow-safe code that imports values from the rest of lib', () => {
    const messages = lintProbe(
      `lib/workflow-safe/${probe}`,
      [
        "import type { Store } from '../store/db';",
        "import { parseDuration } from '../spec/duration';",
        'export const used = parseDuration as unknown as Store;',
        '',
      ].join('\n')
    );
    expect(messages).toEqual([
      expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: '\.\.\/spec\/duration' import is restricted/),
    ]);
  }, 180_000);

  it('refuses lib code that imports the API', () => {
    const messages = lintProbe(
      `lib/${probe}`,
      "import { createApp } from '../api/app';\nexport const app = createApp;\n"
    );
    expect(messages).toEqual([expect.stringMatching(/^no-restricted-imports: '\.\.\/api\/app' import is restricted/)]);
  }, 180_000);
});

import { readFileSync } from 'node:fs';
import { README, withConfigTable } from '../../../tools/docs/update-readme';

describe('README', () => {
  const readme = readFileSync(README, 'utf8');

  it('documents every configuration variable with its default (run tools/docs/update-readme.ts)', () => {
    expect(readme).toBe(withConfigTable(readme));
  });

  it('has a two-command quick start that matches package.json scripts', () => {
    const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quick
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/\s+#.*$/, ''));
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
    const scripts = JSON.parse(readFileSync(`${__dirname}/../../../package.json`, 'utf8')).scripts;
    expect(scripts.start).toBeDefined();
    expect(scripts.test).toMatch(/jest/);
  });
});

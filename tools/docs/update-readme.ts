// Rewrites README's configuration table from CONFIG_VARS: `npx tsx tools/docs/update-readme.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configTable } from './config-table';

export const README = path.resolve(__dirname, '../../README.md');
const START = /<!-- config-table:start[^>]*-->\n/;
const END = '<!-- config-table:end -->';

export function withConfigTable(readme: string): string {
  const start = START.exec(readme);
  const end = readme.indexOf(END);
  if (!start || end < 0) throw new Error('README.md lacks the config-table markers');
  return readme.slice(0, start.index + start[0].length) + configTable() + '\n' + readme.slice(end);
}

if (require.main === module) writeFileSync(README, withConfigTable(readFileSync(README, 'utf8')));

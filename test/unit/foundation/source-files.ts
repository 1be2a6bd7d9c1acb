// The TypeScript sources that the whole-tree scans (failure types, status vocabularies) read.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
const SOURCES = ['activities', 'workers', 'workflows', 'lib', 'api', 'cli', 'serving', 'tools'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every .ts file under the source folders. */
export function sourceFiles(): string[] {
  return SOURCES.flatMap((d) => tsFiles(path.join(ROOT, d)));
}

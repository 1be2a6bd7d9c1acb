// The package's root folder (the checkout, or /app in the image), found from any module:
// compiled code runs from dist/, one folder deeper than the sources, so a fixed number of
// '..' would be wrong for one of the two.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The nearest folder at or above `from` that holds package.json. */
export function packageRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json at or above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(__dirname);

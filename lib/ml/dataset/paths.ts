// Where a run spec's dataset lives. Bundled names map to files under the repository's
// datasets/ folder; paths resolve under the configured datasets root and may not leave it
// (no "..", no absolute paths elsewhere, no symlinks pointing out).
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetFormat } from './read';

/** The bundled datasets (see datasets/README.md for source and licence). */
export const BUNDLED_DATASETS: Record<string, { file: string; format: DatasetFormat; target: string; task: string }> = {
  penguins: { file: 'penguins.csv', format: 'csv', target: 'species', task: 'classification' },
  'auto-mpg': { file: 'auto-mpg.jsonl', format: 'jsonl', target: 'mpg', task: 'regression' },
};

/** The repository's datasets/ folder (bundled files ship there). */
export const BUNDLED_DIR = path.resolve(__dirname, '../../../datasets');

export class DatasetPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetPathError';
  }
}

export function formatOf(file: string, declared?: DatasetFormat): DatasetFormat {
  if (declared) return declared;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new DatasetPathError(
    `cannot tell the format of '${file}' from its extension; use .csv or .jsonl or set dataset.format`
  );
}

/** Resolves a bundled name. */
export function bundledDataset(name: string): { file: string; format: DatasetFormat } {
  const b = BUNDLED_DATASETS[name];
  if (!b) {
    throw new DatasetPathError(
      `no bundled dataset named '${name}'; bundled datasets are: ${Object.keys(BUNDLED_DATASETS).join(', ')}`
    );
  }
  return { file: path.join(BUNDLED_DIR, b.file), format: b.format };
}

/**
 * Resolves `relPath` under `root`, refusing anything outside it (also through symlinks).
 * Throws DatasetPathError naming the problem; the file must exist.
 */
export async function resolveUnderRoot(root: string, relPath: string): Promise<string> {
  const absRoot = path.resolve(root);
  const candidate = path.resolve(absRoot, relPath);
  const inside = (p: string, r: string) => p === r || p.startsWith(r.endsWith(path.sep) ? r : r + path.sep);
  if (!inside(candidate, absRoot)) {
    throw new DatasetPathError(
      `dataset path '${relPath}' is outside the datasets root; give a path relative to the datasets root (${absRoot})`
    );
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new DatasetPathError(`dataset file '${relPath}' does not exist under the datasets root; check the path`);
  }
  const realRoot = await realpath(absRoot).catch(() => absRoot);
  if (!inside(real, realRoot)) {
    throw new DatasetPathError(
      `dataset path '${relPath}' leads outside the datasets root (a symlink?); copy the file into the root`
    );
  }
  return real;
}

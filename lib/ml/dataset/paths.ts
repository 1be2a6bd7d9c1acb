// Where a run spec's dataset lives. Bundled names map to files under the repository's
// datasets/ folder; paths resolve under the configured datasets root and may not leave it.
// A path is checked twice: by its text (datasetPathProblem, also run by the API at the edge,
// so a bad path is a 400 rather than a failed run) and, at ingest, by where it really
// resolves (through symlinks too).
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../package-root';
import type { DatasetFormat } from './read';
import { markErrorClass } from '../../workflow-safe/typed-error';

/** The bundled datasets (see datasets/README.md for source and licence). */
export const BUNDLED_DATASETS: Record<string, { file: string; format: DatasetFormat; target: string; task: string }> = {
  penguins: { file: 'penguins.csv', format: 'csv', target: 'species', task: 'classification' },
  'auto-mpg': { file: 'auto-mpg.jsonl', format: 'jsonl', target: 'mpg', task: 'regression' },
};

/** The repository's datasets/ folder (bundled files ship there). */
export const BUNDLED_DIR = path.join(PACKAGE_ROOT, 'datasets');

export class DatasetPathError extends Error {}
markErrorClass(DatasetPathError, 'DatasetPathError');

export function formatOf(file: string, declared?: DatasetFormat): DatasetFormat {
  if (declared) return declared;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new DatasetPathError(
    `cannot tell the format of '${file}' from its extension; use .csv or .jsonl or set dataset.format`
  );
}

/**
 * Why `relPath` is not an acceptable dataset path, or null. Paths are plain relative paths
 * with forward slashes, taken literally: nothing is ever URL-decoded, so percent-encoded
 * forms (%2e%2e%2f, double-encoded %252e...) are refused rather than guessed at, and URLs
 * are refused because datasets are never fetched (no server-side requests).
 */
export function datasetPathProblem(relPath: string): string | null {
  const fix = 'give a path relative to the datasets root, with / between folders, e.g. "customers/eu/train.csv"';
  if (/[\x00-\x1f\x7f]/.test(relPath)) return `dataset path has control characters (NUL?); ${fix}`;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(relPath)) {
    return /^[A-Za-z]:([\\/]|$)/.test(relPath)
      ? `dataset path '${relPath}' is absolute (a drive letter) and so outside the datasets root; ${fix}`
      : `dataset URLs are not accepted ('${relPath.slice(0, 60)}'): the platform never fetches data from a URL. ` +
          `Copy the file under the datasets root (MLOPS_DATASETS_DIR) and ${fix}`;
  }
  if (relPath.includes('\\')) return `dataset path '${relPath}' has a backslash; ${fix}`;
  if (/%[0-9A-Fa-f]{2}/.test(relPath)) {
    return `dataset path '${relPath}' has percent-encoding, which is never decoded; ${fix}`;
  }
  if (relPath.startsWith('/')) return `dataset path '${relPath}' is absolute and so outside the datasets root; ${fix}`;
  const parts = relPath.split('/');
  if (parts.includes('..'))
    return `dataset path '${relPath}' is outside the datasets root ('..' is not allowed); ${fix}`;
  if (parts.some((p) => p === '' || p === '.')) return `dataset path '${relPath}' has empty or '.' parts; ${fix}`;
  return null;
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
  const problem = datasetPathProblem(relPath);
  if (problem) throw new DatasetPathError(problem);
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

// Checks that run before a route's handler (after authentication and the role check, so an
// anonymous caller learns nothing from them) for inputs that are dangerous rather than merely
// malformed: a dataset path that would leave the datasets root, or a dataset URL (the platform
// never fetches URLs: no server-side request forgery). The ingest step checks paths again where
// they really resolve; this makes the refusal a clear 400 at submission instead of a failed run.
import type { RequestHandler } from 'express';
import { datasetPathProblem } from '../lib/ml/dataset/paths';
import { problems } from './errors';

const NO_URLS =
  'dataset URLs are not accepted: the platform never fetches data from a URL. Copy the file under the ' +
  'datasets root (MLOPS_DATASETS_DIR) and give { "path": "<relative path>" }';

/** [field path, problem] of the run spec's dataset, or null when it is not dangerous. */
function datasetProblem(dataset: unknown): [string, string] | null {
  if (typeof dataset === 'string')
    return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(dataset) ? ['body.dataset', NO_URLS] : null;
  if (!dataset || typeof dataset !== 'object') return null;
  for (const key of ['url', 'uri', 'href']) if (key in dataset) return [`body.dataset.${key}`, NO_URLS];
  const p = (dataset as { path?: unknown }).path;
  const problem = typeof p === 'string' ? datasetPathProblem(p) : null;
  return problem ? ['body.dataset.path', problem] : null;
}

const datasetGuard: RequestHandler = (req, _res, next) => {
  const found = datasetProblem((req.body as { dataset?: unknown } | undefined)?.dataset);
  if (!found) {
    next();
    return;
  }
  const [path, message] = found;
  next(problems.badRequest(`Invalid run spec: ${path}: ${message}`, { errors: [{ path, message }] }));
};

/** Guards by "METHOD path" (the route declaration's path). */
export const EDGE_GUARDS: Record<string, RequestHandler[]> = {
  'POST /v1/runs': [datasetGuard],
};

export function edgeGuards(method: string, path: string): RequestHandler[] {
  return EDGE_GUARDS[`${method.toUpperCase()} ${path}`] ?? [];
}

// Applying a features file: validate it (zod), check every view against its source (the file
// exists under the datasets root, every named column is in its header, the first rows'
// timestamps parse), then store each view under its content hash. Every problem is reported
// with the field it concerns and what to do; nothing is stored unless the whole file is valid.
import { resolveUnderRoot } from '../ml/dataset/paths';
import type { Store } from '../store/db';
import { putFeatureView, type FeatureViewDoc } from '../store/feature-views';
import { featureColumns, featuresFileSchema, viewHash, type FeaturesFile, type ResolvedView } from './definition';
import { openCsv } from './csv-records';
import { parseTimestamp, TIMESTAMP_FORMATS } from './timestamps';

/** Rows whose timestamps are checked at apply time (the whole file is checked when it is read). */
const TIMESTAMP_SAMPLE_ROWS = 1_000;

export interface FieldProblem {
  path: string;
  message: string;
}

export class FeatureDefinitionError extends Error {
  constructor(readonly errors: FieldProblem[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.name = 'FeatureDefinitionError';
  }
}

export function parseFeaturesFile(input: unknown): FeaturesFile {
  const parsed = featuresFileSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new FeatureDefinitionError(
    parsed.error.issues.map((i) => ({
      path:
        i.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
          .join('')
          .replace(/^\./, '') || '(file)',
      message: i.message,
    }))
  );
}

export function resolveViews(file: FeaturesFile): ResolvedView[] {
  return file.views.map((view) => ({ view, entity: file.entities.find((e) => e.name === view.entity)! }));
}

/** Problems of one view against its source file. */
export async function checkSource(datasetsDir: string, r: ResolvedView, at: string): Promise<FieldProblem[]> {
  const { view, entity } = r;
  let file: string;
  try {
    file = await resolveUnderRoot(datasetsDir, view.source.path);
  } catch (err) {
    return [{ path: `${at}.source.path`, message: (err as Error).message }];
  }
  const csv = await openCsv(file, view.source.path);
  const problems: FieldProblem[] = [];
  const has = new Set(csv.header);
  const columns = `the columns of ${view.source.path} are: ${csv.header.join(', ')}`;
  const need = (column: string, path: string, what: string) => {
    if (!has.has(column))
      problems.push({ path, message: `${what} '${column}' is not a column of ${view.source.path}; ${columns}` });
  };
  entity.keys.forEach((k) => need(k, `${at}.entity`, `entity '${entity.name}' key`));
  if (view.timestamp) need(view.timestamp, `${at}.timestamp`, 'timestamp column');
  view.features.forEach((f, i) =>
    featureColumns(f).forEach((c) => need(c, `${at}.features[${i}]`, `feature '${f.name}' reads column`))
  );
  if (view.timestamp && has.has(view.timestamp)) {
    const ts = csv.header.indexOf(view.timestamp);
    let n = 0;
    for await (const { fields, line } of csv.records) {
      if (parseTimestamp(fields[ts] ?? '') === undefined) {
        problems.push({
          path: `${at}.timestamp`,
          message: `line ${line} of ${view.source.path}: '${(fields[ts] ?? '').slice(0, 40)}' in column '${view.timestamp}' is not a timestamp; ${TIMESTAMP_FORMATS}`,
        });
        break;
      }
      if (++n >= TIMESTAMP_SAMPLE_ROWS) break;
    }
  }
  await csv.close();
  return problems;
}

export interface AppliedView {
  name: string;
  version: number;
  hash: string;
  created: boolean;
}

export async function applyFeatures(
  store: Pick<Store, 'db'>,
  datasetsDir: string,
  file: FeaturesFile,
  createdBy: string
): Promise<{ views: AppliedView[]; docs: FeatureViewDoc[] }> {
  const resolved = resolveViews(file);
  const names = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const [i, r] of resolved.entries()) {
    if (names.has(r.view.name))
      problems.push({ path: `views[${i}].name`, message: `view '${r.view.name}' is defined twice in the file` });
    names.add(r.view.name);
    problems.push(...(await checkSource(datasetsDir, r, `views[${i}]`)));
  }
  if (problems.length > 0) throw new FeatureDefinitionError(problems);
  const docs: FeatureViewDoc[] = [];
  const views: AppliedView[] = [];
  for (const r of resolved) {
    const { doc, created } = await putFeatureView(store, { ...r, hash: viewHash(r) }, createdBy);
    docs.push(doc);
    views.push({ name: doc.name, version: doc.version, hash: doc.hash, created });
  }
  return { views, docs };
}

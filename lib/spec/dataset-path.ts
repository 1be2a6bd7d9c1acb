// The zod field for a file under the datasets root, shared by every spec that names one (run specs,
// feature-view sources, batch inputs): the literal-relative-path rule the API edge and ingest apply
// (docs/security.md), so a bad path is refused the same way wherever it is written. The rule is
// also written as a JSON Schema pattern, so the OpenAPI document states what the server enforces;
// a unit test (test/unit/security/dataset-paths.test.ts) holds the two to the same answers.
import { z } from 'zod';
import { datasetPathProblem } from '../ml/dataset/paths';
import { documented } from './json-schema-doc';

/** One path segment: no slash, backslash or control character. */
const SEGMENT = '[^/\\\\\\x00-\\x1f\\x7f]';

/**
 * datasetPathProblem's rule as an ECMA-262 pattern: no scheme or drive letter, no percent-encoding,
 * no `.` or `..` segment, no empty segment (so no leading or trailing slash); `last` is what the
 * last segment must be (e.g. a name ending in .csv).
 */
export function datasetPathPattern(last = `${SEGMENT}+`): string {
  return `^(?![A-Za-z][A-Za-z0-9+.-]*:)(?!.*%[0-9A-Fa-f]{2})(?!(?:.*/)?\\.\\.?(?:/|$))(?:${SEGMENT}+/)*${last}$`;
}

/** The last segment of a .csv file (any case). */
const CSV_FILE = `${SEGMENT}*\\.[cC][sS][vV]`;

/** A dataset path field; `extra` adds a rule of its own (the file type) after the path rule. */
function datasetPathField(max: number, pattern: string, extra?: (p: string) => string | null) {
  return documented(
    z
      .string()
      .min(1)
      .max(max)
      .superRefine((p, ctx) => {
        const problem = datasetPathProblem(p) ?? extra?.(p) ?? null;
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    (js) => ({ ...js, pattern })
  );
}

export const datasetPath = datasetPathField(500, datasetPathPattern());

/** A dataset path that must also name a .csv file; `message` says so when it does not. */
export const csvDatasetPath = (max: number, message: string) =>
  datasetPathField(max, datasetPathPattern(CSV_FILE), (p) => (p.toLowerCase().endsWith('.csv') ? null : message));

// The zod field for a file under the datasets root, shared by every spec that names one (run specs,
// feature-view sources): the literal-relative-path rule the API edge and ingest apply
// (docs/security.md), so a bad path is refused the same way wherever it is written.
import { z } from 'zod';
import { datasetPathProblem } from '../ml/dataset/paths';

export const datasetPath = z
  .string()
  .min(1)
  .max(500)
  .superRefine((p, ctx) => {
    const problem = datasetPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// The validation report: what is wrong with a dataset for the requested target and task, in
// words a user can act on. Errors stop the run (non-retryable); warnings are recorded.
//   - structural problems from reading (ragged rows, bad JSON lines);
//   - non-numeric cells in numeric columns, with line numbers;
//   - the target column: present, not all missing, more than one class / not constant;
//   - missing values per column, constant columns, empty columns, class balance.
import type { Task } from '../types';
import type { ColumnSummary } from './columns';
import type { DatasetIssue, ReadResult } from './read';
import type { ColumnType } from '../types';

export interface ColumnReport extends ColumnSummary {
  missingFraction: number;
  constant: boolean;
  role: 'target' | 'feature' | 'ignored';
}

export interface ValidationReport {
  ok: boolean;
  rows: number;
  bytes: number;
  sha256: string;
  format: string;
  target: string;
  task: Task;
  /** How the task was decided. */
  taskSource: 'spec' | 'inferred';
  columns: ColumnReport[];
  /** Feature columns the pipeline will use, with their types. */
  features: { name: string; type: ColumnType }[];
  /** Classification only: rows per class (missing targets excluded), largest first. */
  classBalance?: { label: string; count: number; fraction: number }[];
  /** Rows whose target is missing; they are left out of training and evaluation. */
  missingTargetRows: number;
  errors: DatasetIssue[];
  warnings: DatasetIssue[];
}

/** Integer targets with at most this many distinct values are read as classes. */
export const MAX_INFERRED_CLASSES = 10;

/**
 * Text targets are classification; numeric targets are regression unless every value is an
 * integer and there are at most MAX_INFERRED_CLASSES distinct values (0/1 flags, ratings).
 */
export function inferTask(col: ColumnSummary): Task {
  if (col.type === 'categorical') return 'classification';
  if (col.integer && col.distinct !== null && col.distinct <= MAX_INFERRED_CLASSES) return 'classification';
  return 'regression';
}

export interface ReportOptions {
  target: string;
  task?: Task;
  /** Columns the user dropped (already absent from the frame). */
  drop?: string[];
}

export function buildValidationReport(read: ReadResult, opts: ReportOptions): ValidationReport {
  const errors: DatasetIssue[] = read.issues.filter((i) => i.severity === 'error');
  const warnings: DatasetIssue[] = read.issues.filter((i) => i.severity === 'warning');
  const rows = read.rows;
  const names = read.columns.map((c) => c.name);

  if (rows === 0) {
    errors.push({
      severity: 'error',
      code: 'empty_dataset',
      message: `the dataset has no data rows${
        names.length ? ' (only a header)' : ''
      }; point the spec at a file with at least a few dozen rows`,
    });
  }
  if ((opts.drop ?? []).includes(opts.target)) {
    errors.push({
      severity: 'error',
      code: 'target_dropped',
      column: opts.target,
      message: `target '${opts.target}' is listed in features.drop; remove it from the drop list`,
    });
  }
  const targetCol = read.columns.find((c) => c.name === opts.target);
  if (!targetCol && rows > 0) {
    errors.push({
      severity: 'error',
      code: 'unknown_target',
      column: opts.target,
      message: `target column '${opts.target}' is not in the dataset; set "target" to one of: ${names.join(', ')}`,
    });
  }

  let task: Task = opts.task ?? 'classification';
  const taskSource: 'spec' | 'inferred' = opts.task ? 'spec' : 'inferred';
  if (targetCol && !opts.task) task = inferTask(targetCol);

  const columns: ColumnReport[] = [];
  const features: ValidationReport['features'] = [];
  for (const c of read.columns) {
    const isTarget = c.name === opts.target;
    const present = rows - c.missing;
    const constant =
      present > 0 &&
      (c.type === 'numeric' ? c.min === c.max : c.distinct === 1) &&
      !(c.type === 'numeric' && c.nonNumeric > 0);
    let role: ColumnReport['role'] = isTarget ? 'target' : 'feature';

    if (c.type === 'numeric' && c.nonNumeric > 0) {
      const sample = c.nonNumericSamples
        .slice(0, 5)
        .map((s) => `line ${s.line}: "${s.value}"`)
        .join(', ');
      const hint =
        c.source === 'override'
          ? `fix those cells or declare it "categorical" in features.types`
          : `fix those cells, or declare it "categorical" in features.types if it is not a number`;
      errors.push({
        severity: 'error',
        code: 'non_numeric_value',
        column: c.name,
        line: c.nonNumericSamples[0]?.line,
        message: `column '${c.name}' is numeric but has ${c.nonNumeric} non-numeric value(s) (${sample}); ${hint}`,
      });
    }
    if (!isTarget && present === 0 && rows > 0) {
      role = 'ignored';
      warnings.push({
        severity: 'warning',
        code: 'empty_column',
        column: c.name,
        message: `column '${c.name}' has no values and is ignored`,
      });
    } else if (!isTarget && c.type === 'categorical' && c.tooManyCategories) {
      errors.push({
        severity: 'error',
        code: 'too_many_categories',
        column: c.name,
        message: `column '${c.name}' has more than 10000 distinct text values (an id or free text?); add it to features.drop`,
      });
      role = 'ignored';
    } else if (!isTarget && constant) {
      role = 'ignored';
      warnings.push({
        severity: 'warning',
        code: 'constant_column',
        column: c.name,
        message: `column '${c.name}' has a single value and is ignored (it cannot help a model)`,
      });
    }
    if (!isTarget && present > 0 && c.missing / rows > 0.5) {
      warnings.push({
        severity: 'warning',
        code: 'mostly_missing',
        column: c.name,
        message: `column '${c.name}' is ${Math.round((100 * c.missing) / rows)}% missing; missing values are imputed (median) or bucketed`,
      });
    }
    if (role === 'feature') features.push({ name: c.name, type: c.type });
    columns.push({ ...c, missingFraction: rows ? c.missing / rows : 0, constant, role });
  }

  let classBalance: ValidationReport['classBalance'];
  let missingTargetRows = 0;
  if (targetCol && rows > 0) {
    missingTargetRows = targetCol.missing;
    const present = rows - targetCol.missing;
    if (present === 0) {
      errors.push({
        severity: 'error',
        code: 'empty_target',
        column: opts.target,
        message: `target column '${opts.target}' has no values; choose a target column with labels`,
      });
    } else if (missingTargetRows > 0) {
      warnings.push({
        severity: 'warning',
        code: 'missing_target',
        column: opts.target,
        message: `${missingTargetRows} row(s) have no '${opts.target}' value and are left out`,
      });
    }
    if (task === 'regression' && targetCol.type !== 'numeric') {
      errors.push({
        severity: 'error',
        code: 'non_numeric_target',
        column: opts.target,
        message: `task is regression but target '${opts.target}' holds text; set "task": "classification" or pick a numeric target`,
      });
    }
    if (task === 'classification' && targetCol.tooManyCategories) {
      errors.push({
        severity: 'error',
        code: 'too_many_classes',
        column: opts.target,
        message: `target '${opts.target}' has more than 10000 distinct values; it looks like a regression target: set "task": "regression"`,
      });
    }
    if (task === 'regression' && present > 0 && targetCol.min === targetCol.max) {
      errors.push({
        severity: 'error',
        code: 'constant_target',
        column: opts.target,
        message: `target '${opts.target}' has the same value in every row; there is nothing to learn`,
      });
    }
  }
  if (targetCol && task === 'classification' && rows > 0 && !targetCol.tooManyCategories) {
    const col = read.frame.columns[opts.target];
    const counts = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < read.frame.length; i++) {
      const v = col instanceof Float64Array ? (Number.isNaN(col[i]) ? null : String(col[i])) : col[i];
      if (v === null) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
    classBalance = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([label, count]) => ({ label, count, fraction: total ? count / total : 0 }));
    if (classBalance.length === 1) {
      errors.push({
        severity: 'error',
        code: 'single_class',
        column: opts.target,
        message: `target '${opts.target}' has only one class ('${classBalance[0].label}'); a classifier needs at least two`,
      });
    } else if (classBalance.length > 1) {
      const smallest = classBalance[classBalance.length - 1];
      if (smallest.count < 2) {
        warnings.push({
          severity: 'warning',
          code: 'tiny_class',
          column: opts.target,
          message: `class '${smallest.label}' has ${smallest.count} row; it cannot appear in both the training and test splits`,
        });
      } else if (smallest.fraction < 0.05) {
        warnings.push({
          severity: 'warning',
          code: 'imbalanced',
          column: opts.target,
          message: `class '${smallest.label}' is only ${(100 * smallest.fraction).toFixed(1)}% of rows; watch macro F1, not just accuracy`,
        });
      }
    }
  }
  if (targetCol && features.length === 0 && rows > 0) {
    errors.push({
      severity: 'error',
      code: 'no_features',
      message: `no usable feature columns remain besides the target; check features.drop and the column list`,
    });
  }

  return {
    ok: errors.length === 0,
    rows,
    bytes: read.bytes,
    sha256: read.sha256,
    format: read.format,
    target: opts.target,
    task,
    taskSource,
    columns,
    features,
    classBalance,
    missingTargetRows,
    errors,
    warnings,
  };
}

/** One message for a failed report: the first few errors, each naming its column or line. */
export function reportErrorMessage(report: ValidationReport): string {
  const shown = report.errors.slice(0, 3).map((e) => e.message);
  const more =
    report.errors.length > 3 ? ` (and ${report.errors.length - 3} more problem(s) in the validation report)` : '';
  return `dataset validation failed: ${shown.join('; ')}${more}`;
}

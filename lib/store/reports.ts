// `validation_reports`: the dataset validation report of each run (_id = runId), written by the
// validate step whether it passes or fails, so a user can read every problem found.
import type { Collection, Db } from 'mongodb';
import type { ValidationReport } from '../ml/dataset/report';
import type { Store } from './db';

export const VALIDATION_REPORTS = 'validation_reports';

export interface ValidationReportDoc {
  _id: string;
  runId: string;
  at: Date;
  report: ValidationReport;
}

export function validationReports(db: Db): Collection<ValidationReportDoc> {
  return db.collection<ValidationReportDoc>(VALIDATION_REPORTS);
}

export async function saveValidationReport(
  store: Pick<Store, 'db'>,
  runId: string,
  report: ValidationReport
): Promise<void> {
  await validationReports(store.db).replaceOne({ _id: runId }, { runId, at: new Date(), report }, { upsert: true });
}

export async function getValidationReport(store: Pick<Store, 'db'>, runId: string): Promise<ValidationReport | null> {
  return (await validationReports(store.db).findOne({ _id: runId }))?.report ?? null;
}

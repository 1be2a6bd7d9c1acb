// CPU queue: ingest (stream the file into a frame and fingerprint it; for a `features` dataset,
// build it first by the point-in-time join of activities/features.ts), validate (the report;
// bad data fails the run at once) and features (drop unusable rows, seeded stratified split).
import path from 'node:path';
import { access, mkdir, realpath } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import {
  buildValidationReport,
  bundledDataset,
  decodeFrame,
  encodeFrame,
  formatOf,
  readDataset,
  reportErrorMessage,
  resolveUnderRoot,
  splitIndices,
  syntheticFileName,
  takeRows,
  writeSyntheticCsv,
  type ColumnSummary,
  type DatasetFormat,
  type DatasetIssue,
  type ReadResult,
} from '../lib/ml/dataset';
import type { Frame } from '../lib/ml/types';
import { checkWorkerMayRead } from '../lib/spec/residency';
import { MEDIA, putArtifact, readArtifact } from '../lib/store/artifacts';
import { saveValidationReport } from '../lib/store/reports';
import { updateRun } from '../lib/store/runs';
import { profileFrame } from '../lib/monitoring/profile';
import { saveReferenceProfile } from '../lib/store/monitoring';
import { cancellationSignal, heartbeat, tracked, type ActivityDeps } from './common';
import { joinTrainingSet } from './features';
import type { FeatureViewLineage } from '../lib/store/models';
import type { FeaturesResult, IngestResult, RunRef, ValidateResult } from './types';
import { FAILURE } from '../lib/workflow-safe/failures';

interface Profile {
  columns: ColumnSummary[];
  issues: DatasetIssue[];
}

export async function locateDataset(
  deps: ActivityDeps,
  spec: RunRef['spec'],
  runId: string
): Promise<{ file: string; format: DatasetFormat; source: string; featureViews?: FeatureViewLineage[] }> {
  const ds = spec.dataset;
  if ('features' in ds) {
    // The training set is the point-in-time join, written once per run (a retry rewrites it).
    const dir = path.join(deps.cfg.dataDir, 'training-sets');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${runId}.csv`);
    const { lineage } = await joinTrainingSet(deps, ds.features, file);
    const refs = lineage.map((l) => `${l.view}@v${l.version}`).join(',');
    return { file, format: 'csv', source: `features:${ds.features.entities}+${refs}`, featureViews: lineage };
  }
  if ('name' in ds) {
    const b = bundledDataset(ds.name);
    return { ...b, source: `bundled:${ds.name}` };
  }
  if ('path' in ds) {
    const file = await resolveUnderRoot(deps.cfg.datasetsDir, ds.path);
    // By the path as given and by where it really leads (a symlink may cross regions).
    checkWorkerMayRead(deps.cfg, ds.path);
    checkWorkerMayRead({ ...deps.cfg, datasetsDir: await realpath(deps.cfg.datasetsDir) }, file);
    return { file, format: formatOf(file, ds.format), source: `path:${ds.path}` };
  }
  const o = ds.synthetic;
  const file = path.join(deps.cfg.dataDir, 'synthetic', syntheticFileName(o));
  const exists = await access(file).then(
    () => true,
    () => false
  );
  if (!exists) await writeSyntheticCsv(file, o);
  return { file, format: 'csv', source: `synthetic:${path.basename(file)}` };
}

export function createDataActivities(deps: ActivityDeps) {
  return {
    /** Streams the dataset into a frame artifact, fingerprinting the source bytes. */
    async ingest(input: RunRef): Promise<IngestResult> {
      return tracked(
        deps,
        input.runId,
        'ingest',
        async () => {
          const { file, format, source, featureViews } = await locateDataset(deps, input.spec, input.runId);
          const read = await readDataset(file, {
            format,
            types: input.spec.features.types,
            drop: input.spec.features.drop.filter((d) => d !== input.spec.target),
            onProgress: (bytes) => heartbeat({ bytes }),
            signal: cancellationSignal(),
          });
          const frame = await putArtifact(deps.store, encodeFrame(read.frame), MEDIA.frame, {
            kind: 'dataset',
            runId: input.runId,
          });
          const profile: Profile = { columns: read.columns, issues: read.issues };
          const profileRef = await putArtifact(deps.store, Buffer.from(JSON.stringify(profile)), MEDIA.json, {
            kind: 'dataset-profile',
          });
          await updateRun(deps.store, input.runId, {
            dataset: {
              sha256: read.sha256,
              rows: read.rows,
              bytes: read.bytes,
              format,
              source,
              uri: frame.uri,
              ...(featureViews ? { featureViews } : {}),
            },
          });
          return {
            frame,
            profile: profileRef,
            sha256: read.sha256,
            bytes: read.bytes,
            rows: read.rows,
            format,
            source,
            ...(featureViews ? { featureViews } : {}),
          };
        },
        (r) => ({
          rows: r.rows,
          bytes: r.bytes,
          sha256: r.sha256,
          source: r.source,
          ...(r.featureViews ? { featureViews: r.featureViews.map((v) => `${v.view}@v${v.version}`) } : {}),
        })
      );
    },

    /** Builds and stores the validation report; any error fails the run without retries. */
    async validate(input: RunRef & { ingest: IngestResult }): Promise<ValidateResult> {
      return tracked(
        deps,
        input.runId,
        'validate',
        async () => {
          const profile = JSON.parse(
            (await readArtifact(deps.store, input.ingest.profile)).toString('utf8')
          ) as Profile;
          const frame = decodeFrame(await readArtifact(deps.store, input.ingest.frame));
          const read: ReadResult = {
            frame,
            columns: profile.columns,
            issues: profile.issues,
            sha256: input.ingest.sha256,
            bytes: input.ingest.bytes,
            rows: input.ingest.rows,
            format: input.ingest.format,
          };
          const report = buildValidationReport(read, {
            target: input.spec.target,
            task: input.spec.task,
            drop: input.spec.features.drop,
          });
          await saveValidationReport(deps.store, input.runId, report);
          await updateRun(deps.store, input.runId, { task: report.task });
          if (!report.ok) {
            throw ApplicationFailure.create({
              message: reportErrorMessage(report),
              type: FAILURE.DatasetValidationError,
              nonRetryable: true,
              details: [{ errors: report.errors.slice(0, 10) }],
            });
          }
          return {
            ok: true as const,
            task: report.task,
            features: report.features,
            rows: report.rows,
            missingTargetRows: report.missingTargetRows,
            classes: report.classBalance?.map((c) => c.label),
            warnings: report.warnings.slice(0, 20).map((w) => w.message),
          };
        },
        (r) => ({ task: r.task, features: r.features.length, warnings: r.warnings.length })
      );
    },

    /** Drops rows without a target, keeps the usable columns, and splits train/test (seeded). */
    async buildFeatures(input: RunRef & { ingest: IngestResult; validation: ValidateResult }): Promise<FeaturesResult> {
      return tracked(
        deps,
        input.runId,
        'features',
        async () => {
          const { spec } = input;
          const frame = decodeFrame(await readArtifact(deps.store, input.ingest.frame));
          const target = frame.columns[spec.target];
          const keep: number[] = [];
          for (let i = 0; i < frame.length; i++) {
            const v = target instanceof Float64Array ? (Number.isNaN(target[i]) ? null : target[i]) : target[i];
            if (v !== null && v !== undefined) keep.push(i);
          }
          const columns = [...input.validation.features.map((f) => f.name), spec.target];
          const usable: Frame = takeRows(frame, keep, columns);
          const labels =
            input.validation.task === 'classification' && spec.split.stratify
              ? (() => {
                  const t = usable.columns[spec.target];
                  return t instanceof Float64Array ? Array.from(t, (v) => String(v)) : t;
                })()
              : undefined;
          const split = splitIndices(usable.length, {
            test: spec.split.test,
            seed: spec.split.seed,
            stratifyBy: labels,
          });
          if (split.train.length < 2 || split.test.length < 1) {
            throw ApplicationFailure.create({
              message: `only ${usable.length} usable row(s) (with a '${spec.target}' value); the train/test split needs at least 3, use a larger dataset`,
              type: FAILURE.DatasetValidationError,
              nonRetryable: true,
            });
          }
          const trainFrame = takeRows(usable, split.train);
          const train = await putArtifact(deps.store, encodeFrame(trainFrame), MEDIA.frame, {
            kind: 'train-split',
          });
          // Monitoring's reference: bins and frequencies of the training split, not its rows.
          await saveReferenceProfile(deps.store, input.runId, {
            rows: trainFrame.length,
            features: profileFrame(trainFrame, input.validation.features),
          });
          const test = await putArtifact(deps.store, encodeFrame(takeRows(usable, split.test)), MEDIA.frame, {
            kind: 'test-split',
          });
          return {
            train,
            test,
            trainRows: split.train.length,
            testRows: split.test.length,
            features: input.validation.features,
          };
        },
        (r) => ({ trainRows: r.trainRows, testRows: r.testRows, features: r.features.length })
      );
    },
  };
}

// Shared setup of the batch-inference tests: a small penguins classifier trained here, exported,
// registered as a signed version under `production` (no pipeline run needed), the input CSVs
// written under a datasets root of the test's own, and the expected predictions computed with
// predict-onnx directly (so the tests need the ort-environment docblock).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportOnnx, train } from '../../../lib/ml';
import { outputNumber } from '../../../lib/batch/score';
import { predictOnnx } from '../../../lib/ml/predict-onnx';
import { readDataset } from '../../../lib/ml/dataset';
import { MEDIA, putArtifact } from '../../../lib/store/artifacts';
import type { Store } from '../../../lib/store/db';
import { moveAlias, registerModelVersion } from '../../../lib/store/models';
import { penguins, penguinsFeatures } from '../../unit/ml/data';

export const FEATURES = penguinsFeatures;

/** Trains and registers `name` v1 as production; returns the ONNX bytes. */
export async function registerPenguins(store: Store, name: string): Promise<Uint8Array> {
  const model = await train(penguins(), {
    task: 'classification',
    target: 'species',
    features: FEATURES,
    model: { kind: 'mlp', hidden: [8] },
    epochs: 5,
    batchSize: 32,
    learningRate: 0.02,
    l2: 0,
    patience: 0,
    validationFraction: 0,
    seed: 3,
  });
  const onnx = exportOnnx(model, { 'mlops.model_name': name });
  const ref = await putArtifact(store, onnx, MEDIA.onnx, { kind: 'test' });
  const { version } = await registerModelVersion(store, {
    name,
    runId: `run-${name}`,
    metrics: {},
    artifacts: { onnx: ref, serving: ref },
    lineage: {
      datasetSha256: 'test',
      datasetSource: 'bundled:penguins',
      datasetRows: 344,
      spec: {},
      codeVersion: 'test',
      parentRun: `run-${name}`,
      trainer: {},
      features: FEATURES,
      target: 'species',
      task: 'classification',
      artifacts: { onnx: ref.sha256 },
    },
  });
  await moveAlias(store, { name, alias: 'production', version: version.version, by: 'test' });
  return onnx;
}

export function datasetsRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'batch-data-'));
}

const HEADER = [
  'pid',
  'species',
  'island',
  'bill_length_mm',
  'bill_depth_mm',
  'flipper_length_mm',
  'body_mass_g',
  'sex',
];

/** `copies` x the penguins rows with an id column; `mutate` may rewrite the cells of a row. */
export function writePenguinsCsv(
  root: string,
  file: string,
  copies: number,
  opts: { mutate?: (cells: string[], row: number) => string[]; drop?: string } = {}
): string {
  const frame = penguins();
  const header = HEADER.filter((h) => h !== opts.drop);
  const lines = [header.join(',')];
  let row = 0;
  for (let c = 0; c < copies; c++) {
    for (let i = 0; i < frame.length; i++) {
      row++;
      let cells = header.map((h) => {
        if (h === 'pid') return `p${row}`;
        const v = frame.columns[h][i];
        return v === null || (typeof v === 'number' && Number.isNaN(v)) ? 'NA' : String(v);
      });
      if (opts.mutate) cells = opts.mutate(cells, row);
      lines.push(cells.join(','));
    }
  }
  writeFileSync(path.join(root, file), lines.join('\n') + '\n');
  return path.join(root, file);
}

/** The CSV output lines predict-onnx gives for the readable rows of `file` (row numbers 1-based). */
export async function expectedCsv(onnx: Uint8Array, file: string, skip: Set<number> = new Set()): Promise<string[]> {
  const read = await readDataset(file, { format: 'csv', types: { island: 'categorical', sex: 'categorical' } });
  const p = await predictOnnx(onnx, read.frame);
  const ids = read.frame.columns.pid as string[];
  const k = p.classes!.length;
  const out: string[] = [];
  for (let i = 0; i < read.frame.length; i++) {
    if (skip.has(i + 1)) continue;
    const probs = Array.from({ length: k }, (_, c) => outputNumber(p.probabilities![i * k + c]));
    out.push([String(i + 1), ids[i], p.labels![i], ...probs].join(','));
  }
  return out;
}

// The quality gate compares champion and challenger on rows neither was trained on (issue 15).
// A retrain on a superset of the champion's data re-splits the champion's training rows into the
// new test split. An over-fitted champion scores far above its real skill there, so the old gate
// refused every retrain; here a challenger that generalises better is promoted, and the gate
// records which rows it compared on.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { mulberry32 } from '../../../lib/ml/dataset';
import { getRun } from '../../../lib/store/runs';
import { getModelVersion } from '../../../lib/store/models';
import { pipelineEnv, startPipeline, type PipelineEnv } from './helpers';

/** Two numeric signals decide the class; 30% of labels are flipped, so memorising them pays only on seen rows. */
function noisyRows(n: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = [rnd(), rnd(), rnd(), rnd()].map((v) => v * 2 - 1);
    const clean = x[0] + x[1] > 0;
    const label = rnd() < 0.3 ? !clean : clean;
    rows.push(`${x.map((v) => v.toFixed(5)).join(',')},${label ? 'a' : 'b'}`);
  }
  return rows;
}

let env: PipelineEnv;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gate-held-out-'));
  const old = noisyRows(900, 7);
  const fresh = noisyRows(450, 8);
  const header = 'x1,x2,x3,x4,label';
  await writeFile(path.join(dir, 'v1.csv'), [header, ...old].join('\n') + '\n');
  await writeFile(path.join(dir, 'v2.csv'), [header, ...old, ...fresh].join('\n') + '\n');
  env = await pipelineEnv({ env: { MLOPS_DATASETS_DIR: dir } });
});
afterAll(async () => {
  await env?.close();
});

describe('gate: champion and challenger compared on rows neither was trained on', () => {
  it('promotes a better challenger retrained on a superset of the champion data', async () => {
    const model = `heldout-${randomUUID().slice(0, 6)}`;
    const base = { model, target: 'label', approval: { required: false }, optimise: { int8: false } };
    // The champion memorises its rows (wide MLP, no weight decay, no early stopping).
    const champion = await startPipeline(env, {
      ...base,
      dataset: { path: 'v1.csv' },
      trainer: {
        model: 'mlp',
        hidden: [128, 128],
        epochs: 250,
        l2: 0,
        patience: 0,
        validationFraction: 0,
        learningRate: 0.01,
      },
    });
    expect((await champion.result()).status).toBe('succeeded');
    const v1 = await getModelVersion(env.store, model, 1);
    expect(v1?.lineage.trainRows).toMatchObject({ rows: 720, columns: ['x1', 'x2', 'x3', 'x4', 'label'] });

    // The challenger, on the superset, is a linear model: it cannot memorise, and it generalises.
    const challenger = await startPipeline(env, {
      ...base,
      dataset: { path: 'v2.csv' },
      trainer: { model: 'linear', epochs: 60 },
      gates: { maxRegression: 0.02 },
    });
    const result = await challenger.result();
    const run = await getRun(env.store, challenger.workflowId);
    const gate = run?.gate as {
      passed: boolean;
      heldOut?: { basis: string; rows: number; excludedRows: number };
      reason: string;
    };
    expect({ status: result.status, reason: result.reason }).toEqual({ status: 'succeeded', reason: null });
    expect(result.promotion).toMatchObject({ version: 2, previousVersion: 1 });
    // 270 test rows; about two thirds of them were the champion's training rows and are left out.
    expect(gate.heldOut?.basis).toBe('unseen');
    expect(gate.heldOut!.rows + gate.heldOut!.excludedRows).toBe(270);
    expect(gate.heldOut!.excludedRows).toBeGreaterThan(100);
    expect(gate.heldOut!.rows).toBeGreaterThan(60);
    const champ = run?.champion as { version: number; heldOut: { challenger: { rows: number } } };
    expect(champ.version).toBe(1);
    expect(champ.heldOut.challenger.rows).toBe(gate.heldOut!.rows);
  });
});

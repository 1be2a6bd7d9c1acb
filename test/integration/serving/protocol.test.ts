/** @jest-environment ./test/unit/ml/ort-environment.js */
// Open Inference Protocol conformance of the real inference server (a child process on the test
// MongoDB): every route and its answer shape, metadata that matches the ONNX, predictions equal
// to the evaluation's on the test split, missing values as in training, every error a 4xx
// {"error"} naming the input, and fuzzed bodies that never get a 5xx.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../../cli/main';
import { scoreOnnx } from '../../../activities/evaluate';
import { classificationMetrics, predictOnnx } from '../../../lib/ml';
import { decodeModel } from '../../../lib/ml/onnx/proto';
import { rng } from '../../../lib/workflow-safe/rng';
import { get, infer, penguinsRequest, registerPenguins, servingSuite } from './helpers';

let onnx: Uint8Array;
const env = servingSuite({
  prepare: async (store, model, data) => ({ onnx } = await registerPenguins(store, model, data)),
  serverEnv: () => ({ MLOPS_INFERENCE_MAX_ROWS: '500', MLOPS_INFERENCE_MAX_BODY_BYTES: '200000' }),
});
const { model: MODEL, data } = env;

const ok = (body: unknown) => infer(env.server.url, MODEL, env.tokens.predictor, body);

describe('server routes', () => {
  it('answers health and server metadata without a token', async () => {
    expect(await get(env.server.url, '/v2/health/live', null)).toMatchObject({ status: 200, body: { live: true } });
    expect(await get(env.server.url, '/v2/health/ready', null)).toMatchObject({ status: 200, body: { ready: true } });
    const meta = await get(env.server.url, '/v2', null);
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({ name: 'mlops-inference', version: expect.any(String), extensions: [] });
  });

  it('serves model metadata whose inputs and outputs come from the ONNX', async () => {
    const m = decodeModel(onnx);
    for (const route of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/versions/1`]) {
      const r = await get(env.server.url, route, env.tokens.predictor);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-model-version')).toBe('1');
      expect(r.body.name).toBe(MODEL);
      expect(r.body.versions).toEqual(['1']);
      expect(r.body.platform).toBe('onnxruntime_onnx');
      // One [-1, 1] tensor per feature column; FP32 numeric, BYTES categorical.
      expect(r.body.inputs).toEqual([
        { name: 'bill_length_mm', datatype: 'FP32', shape: [-1, 1] },
        { name: 'bill_depth_mm', datatype: 'FP32', shape: [-1, 1] },
        { name: 'flipper_length_mm', datatype: 'FP32', shape: [-1, 1] },
        { name: 'body_mass_g', datatype: 'FP32', shape: [-1, 1] },
        { name: 'island', datatype: 'BYTES', shape: [-1, 1] },
        { name: 'sex', datatype: 'BYTES', shape: [-1, 1] },
      ]);
      expect(r.body.outputs).toEqual([
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ]);
      expect(r.body.outputs.map((o: { name: string }) => o.name)).toEqual(m.graph.output.map((o) => o.name));
      // The graph's own inputs, packed numeric plus one per categorical column, are shown too.
      expect(r.body.parameters.graph_inputs.map((i: { name: string }) => i.name)).toEqual(
        m.graph.input.map((i) => i.name)
      );
      expect(r.body.parameters.graph_inputs[0]).toEqual({ name: 'numeric', datatype: 'FP32', shape: [-1, 4] });
    }
  });

  it('says whether a model is ready', async () => {
    const r = await get(env.server.url, `/v2/models/${MODEL}/ready`, env.tokens.predictor);
    expect(r).toMatchObject({ status: 200, body: { name: MODEL, ready: true } });
    expect(r.headers.get('x-model-version')).toBe('1');
    const pinned = await get(env.server.url, `/v2/models/${MODEL}/versions/1/ready`, env.tokens.predictor);
    expect(pinned).toMatchObject({ status: 200, body: { name: MODEL, ready: true } });
  });
});

describe('infer', () => {
  it('answers with the v2 response shape, the request id and the version', async () => {
    const r = await ok({ id: 'req-1', ...penguinsRequest(data.test, 0, 3) });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.body).toMatchObject({ model_name: MODEL, model_version: '1', id: 'req-1' });
    const [label, probs] = r.body.outputs;
    expect(label).toMatchObject({ name: 'label', datatype: 'BYTES', shape: [3] });
    expect(label.data).toHaveLength(3);
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3] });
    expect(probs.data).toHaveLength(9);
    // Without an id the server makes one.
    const anon = await ok(penguinsRequest(data.test, 0, 1));
    expect(anon.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('predicts exactly what the evaluation scored on the test split', async () => {
    const r = await ok(penguinsRequest(data.test));
    expect(r.status).toBe(200);
    const labels: string[] = r.body.outputs[0].data;
    const probs = Float32Array.from(r.body.outputs[1].data as number[]);
    const evaluation = await scoreOnnx(onnx, data.test, 'species', 'classification');
    const served = classificationMetrics(data.test.columns.species as string[], labels, probs, evaluation.classes!);
    expect(served.accuracy).toBe(evaluation.accuracy);
    expect(served.logLoss).toBeCloseTo(evaluation.logLoss!, 10);
    const direct = await predictOnnx(onnx, data.test);
    expect(labels).toEqual(direct.labels);
    expect(Array.from(probs)).toEqual(Array.from(direct.probabilities!));
  });

  it('returns only the outputs asked for', async () => {
    const r = await ok({ ...penguinsRequest(data.test, 0, 2), outputs: [{ name: 'label' }] });
    expect(r.status).toBe(200);
    expect(r.body.outputs.map((o: { name: string }) => o.name)).toEqual(['label']);
  });

  it('handles missing values exactly as training preprocessing does', async () => {
    // Row 0 of the test split with its numeric values and sex missing, spelled as a client would.
    const frame = {
      length: 3,
      columns: Object.fromEntries(Object.entries(data.test.columns).map(([k, col]) => [k, col.slice(0, 3)])),
    };
    (frame.columns.bill_length_mm as Float64Array)[0] = NaN;
    (frame.columns.body_mass_g as Float64Array)[1] = NaN;
    (frame.columns.sex as (string | null)[])[0] = null;
    (frame.columns.sex as (string | null)[])[1] = null;
    (frame.columns.island as (string | null)[])[2] = null;
    const req = penguinsRequest(frame);
    req.inputs[5].data[1] = 'NA'; // the dataset reader's missing spelling
    req.inputs[4].data[2] = ' '; // blank after trimming
    const r = await ok(req);
    expect(r.status).toBe(200);
    const direct = await predictOnnx(onnx, frame);
    expect(r.body.outputs[0].data).toEqual(direct.labels);
    expect(r.body.outputs[1].data).toEqual(Array.from(direct.probabilities!));
  });
});

describe('errors', () => {
  const valid = () => penguinsRequest(data.test, 0, 2);
  const cases: [string, () => unknown, number, RegExp][] = [
    ['invalid JSON', () => '{"inputs": [', 400, /not valid JSON/],
    ['no inputs', () => ({}), 400, /inputs: Required/],
    ['inputs not an array', () => ({ inputs: 'x' }), 400, /inputs: Expected array/],
    ['missing column', () => ({ inputs: valid().inputs.slice(1) }), 400, /missing input\(s\) 'bill_length_mm'/],
    [
      'unknown column',
      () => ({ inputs: [...valid().inputs, { name: 'beak', shape: [2, 1], datatype: 'FP32', data: [1, 2] }] }),
      400,
      /unknown input\(s\) 'beak'; the model takes 'bill_length_mm'/,
    ],
    [
      'duplicate column',
      () => ({ inputs: [...valid().inputs, valid().inputs[0]] }),
      400,
      /input 'bill_length_mm' is given twice/,
    ],
    [
      'numeric column as BYTES',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 0 ? { ...i, datatype: 'BYTES' } : i)) }),
      400,
      /input 'bill_length_mm' has datatype BYTES; expected FP32/,
    ],
    [
      'categorical column as BOOL',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 4 ? { ...i, datatype: 'BOOL' } : i)) }),
      400,
      /input 'island' has datatype BOOL; expected BYTES/,
    ],
    [
      'string in a numeric column',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 1 ? { ...i, data: ['deep', 3] } : i)) }),
      400,
      /input 'bill_depth_mm' element 0 is "deep"; expected a number or null/,
    ],
    [
      'number in a BYTES column',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 5 ? { ...i, data: [1, 'male'] } : i)) }),
      400,
      /input 'sex' element 0 is 1; expected a string or null/,
    ],
    [
      'shape and data disagree',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 2 ? { ...i, shape: [3, 1] } : i)) }),
      400,
      /input 'flipper_length_mm' has 2 data elements but shape \[3,1\] needs 3/,
    ],
    [
      'wide shape',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 0 ? { ...i, shape: [1, 2] } : i)) }),
      400,
      /input 'bill_length_mm' has shape \[1,2\]; expected \[N\] or \[N, 1\]/,
    ],
    [
      'rows differ between inputs',
      () => ({ inputs: valid().inputs.map((i, k) => (k === 3 ? { ...i, shape: [1, 1], data: [i.data[0]] } : i)) }),
      400,
      /input 'body_mass_g' has 1 rows; the other inputs have 2/,
    ],
    ['zero rows', () => penguinsRequest(data.test, 0, 0), 400, /0 rows/],
    [
      'too many rows',
      () => penguinsRequest({ length: 501, columns: repeatColumns(501) }),
      413,
      /501 rows; at most 500/,
    ],
    [
      'body too large',
      () => ({ inputs: valid().inputs, parameters: { pad: 'x'.repeat(250_000) } }),
      413,
      /MLOPS_INFERENCE_MAX_BODY_BYTES/,
    ],
    [
      'unknown output',
      () => ({ ...valid(), outputs: [{ name: 'logits' }] }),
      400,
      /unknown output 'logits'; the model has 'label', 'probabilities'/,
    ],
  ];
  it.each(cases)('%s: 4xx with an error naming the problem', async (_name, body, status, message) => {
    const r = await ok(body());
    expect({ status: r.status, body: r.body }).toEqual({ status, body: { error: expect.stringMatching(message) } });
  });

  it('refuses unknown models, versions, methods and routes with {"error"}', async () => {
    const t = env.tokens.predictor;
    const expectError = (r: { status: number; body: any }, status: number, message: RegExp) =>
      expect({ status: r.status, body: r.body }).toEqual({ status, body: { error: expect.stringMatching(message) } });
    expectError(
      await get(env.server.url, '/v2/models/no-such-model', t),
      404,
      /model 'no-such-model' has no 'production' alias/
    );
    expectError(await get(env.server.url, `/v2/models/${MODEL}/versions/9`, t), 404, /has no version 9/);
    expectError(await get(env.server.url, `/v2/models/${MODEL}/versions/x1`, t), 400, /must be a positive integer/);
    expectError(await get(env.server.url, `/v2/models/..%2Fetc/ready`, t), 400, /model name '..\/etc' must match/);
    expectError(await get(env.server.url, `/v2/models/${MODEL}/infer`, t), 405, /use POST/);
    expectError(await infer(env.server.url, MODEL, t, {}, `/v2/models/${MODEL}`), 405, /use GET/);
    expectError(await get(env.server.url, '/v1/runs', t), 404, /no route GET \/v1\/runs/);
  });

  it('answers fuzzed bodies with a 4xx, never a 5xx, and stays up', async () => {
    const r = rng(42, 'fuzz');
    const base = JSON.stringify(penguinsRequest(data.test, 0, 4));
    const junk = ['null', '[]', '{}', '"x"', '1e999', '-1', 'true', '{"a":', '\u0000', '[[[[[[', '{"inputs":[{}]}'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      let body: string;
      const kind = i % 3;
      if (kind === 0) {
        // Byte-level mutation of a valid body.
        const chars = base.split('');
        for (let m = 0; m < 1 + Math.floor(r() * 4); m++) {
          chars[Math.floor(r() * chars.length)] = String.fromCharCode(Math.floor(r() * 128));
        }
        body = chars.join('');
      } else if (kind === 1) {
        // A valid body with one value replaced by junk JSON.
        const tokensOf = base.split(/(?<=[,:[])/);
        tokensOf[Math.floor(r() * tokensOf.length)] = junk[Math.floor(r() * junk.length)] + ',';
        body = tokensOf.join('');
      } else {
        body = junk[Math.floor(r() * junk.length)];
      }
      const res = await ok(body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) throw new Error(`5xx for body ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      if (res.status !== 200) expect(res.body).toEqual({ error: expect.any(String) });
    }
    expect([...statuses.keys()].every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
    expect(await get(env.server.url, '/v2/health/live', null)).toMatchObject({ status: 200 });
  });
});

describe('mlops predict', () => {
  it('turns JSON objects with column names into a v2 request and prints a table', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'predict-'));
    const file = path.join(dir, 'rows.jsonl');
    const rows = Array.from({ length: 5 }, (_, i) => {
      const row = Object.fromEntries(Object.entries(data.test.columns).map(([k, col]) => [k, col[i]]));
      // Missing values as a user writes them; the target and unused columns are simply ignored.
      return JSON.stringify({
        ...row,
        bill_length_mm: i === 0 ? null : row.bill_length_mm,
        island: i === 1 ? 'NA' : row.island,
      });
    });
    writeFileSync(file, rows.join('\n') + '\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: { MLOPS_INFERENCE_URL: env.server.url, MLOPS_TOKEN: env.tokens.predictor },
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
    };
    expect(await runCli(['predict', MODEL, '--rows', file], io)).toBe(0);
    const lines = out.join('').trim().split('\n');
    expect(lines[0]).toBe(`model ${MODEL} v1: 5 rows`);
    expect(lines[1].split(/\s+/)).toEqual(['ROW', 'LABEL', 'P(ADELIE)', 'P(CHINSTRAP)', 'P(GENTOO)']);
    const frame = {
      length: 5,
      columns: Object.fromEntries(Object.entries(data.test.columns).map(([k, c]) => [k, c.slice(0, 5)])),
    };
    (frame.columns.bill_length_mm as Float64Array)[0] = NaN;
    (frame.columns.island as (string | null)[])[1] = null;
    const direct = await predictOnnx(onnx, frame);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[1])).toEqual(direct.labels);

    expect(await runCli(['predict', MODEL, '--rows', file, '--json'], io)).toBe(0);
    const json = JSON.parse(out.slice(-1)[0]);
    expect(json).toMatchObject({ model: MODEL, versions: ['1'] });
    expect(json.predictions).toHaveLength(5);

    // A bad cell is named before anything is sent; a refusal of the server is shown as is.
    writeFileSync(file, JSON.stringify({ ...JSON.parse(rows[0]), body_mass_g: 'heavy' }) + '\n');
    expect(await runCli(['predict', MODEL, '--rows', file], io)).toBe(2);
    expect(err.join('')).toMatch(/row 1, column 'body_mass_g': "heavy" is not a number/);
    expect(await runCli(['predict', 'no-such-model', '--rows', file], io)).toBe(1);
    expect(err.join('')).toMatch(/HTTP 404: model 'no-such-model' has no 'production' alias/);
  });
});

/** Columns of n copies of the first test row. */
function repeatColumns(n: number) {
  return Object.fromEntries(
    Object.entries(data.test.columns).map(([k, col]) => [
      k,
      col instanceof Float64Array ? new Float64Array(n).fill(col[0]) : Array(n).fill(col[0]),
    ])
  );
}

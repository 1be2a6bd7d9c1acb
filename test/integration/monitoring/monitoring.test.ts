/** @jest-environment ./test/unit/ml/ort-environment.js */
// Monitoring on real servers: requests go through the real inference server into its drift
// sketches and the prediction log (real MongoDB wire), a real `monitorModel` workflow on real
// Temporal computes the window on the CPU queue, and its report, HTML artifact, gauges, audit
// entry and drift trigger are read back; labels arrive by request id or by row id (monitor.idColumn). Also: the schedule fires, is paused and deleted; the HTML renders in headless Chromium.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { thresholdsOf } from '../../../lib/monitoring/drift';
import { WindowAccumulator } from '../../../lib/monitoring/window';
import {
  describeMonitorSchedule,
  monitorScheduleId,
  setMonitorSchedulePaused,
  syncMonitorSchedule,
} from '../../../lib/monitoring/schedule';
import { readArtifact } from '../../../lib/store/artifacts';
import { listAudit } from '../../../lib/store/audit';
import { listMonitoringReports } from '../../../lib/store/monitoring';
import { lifecycleWorkflowId, RETRAIN_TRIGGER_SIGNAL } from '../../../lib/workflow-safe/lifecycle';
import type { MonitorWindowResult } from '../../../activities/monitoring';
import { Browser } from '../foundation/browser';
import { runCli } from '../../../cli/main';
import { waitFor } from '../harness/wait';
import { penguins, penguinsFeatures, slice, split } from '../../unit/ml/data';
import { profileFrame } from '../../../lib/monitoring/profile';
import { infer, penguinsRequest } from '../serving/helpers';
import { monitoringEnv, sample, send, sketchedRequests, type MonitoringEnv } from './helpers';
import { call, expectProblem, startTestApi, type TestApi } from '../api/helpers';

let env: MonitoringEnv;
let api: TestApi;
beforeAll(async () => {
  env = await monitoringEnv();
  api = await startTestApi({ cfg: env.cfg });
}, 180_000);
afterAll(async () => {
  await api?.close();
  await env?.close();
});

const EVERY = 10_000;

/** Waits until the drift sketches hold `n` requests of the model, then past the next window end. */
async function sketched(model: string, n: number): Promise<void> {
  await waitFor(`${n} sketched requests of ${model}`, async () => (await sketchedRequests(env, model)) >= n, 60_000);
  const boundary = Math.ceil(Date.now() / EVERY) * EVERY;
  await new Promise((r) => setTimeout(r, boundary - Date.now() + 300));
}

async function monitorNow(model: string): Promise<MonitorWindowResult> {
  return env.client.workflow.execute('monitorModel', {
    taskQueue: env.cfg.queues.control,
    workflowId: `monitor-now-${model}-${randomUUID().slice(0, 6)}`,
    args: [{ model, queues: { cpu: env.cfg.queues.cpu }, options: { retryInitialInterval: '200 milliseconds' } }],
  });
}

describe('monitoring windows', () => {
  it('finds no drift in traffic drawn from the data, and drift in shifted traffic', async () => {
    const calm = await env.model();
    const shifted = await env.model();
    for (const m of [calm, shifted]) await env.policy(m, { monitor: { every: EVERY, window: '1h', minRows: 50 } });
    // Held-out rows (the test split), resampled: the training distribution, rows never trained on.
    // The held-out rows (the test split: the training distribution, never trained on) as they are.
    const calmIds = await send(env, calm, env.data.test);
    await send(env, shifted, sample(env.data.test, 300, 12, true));
    await sketched(calm, calmIds.length);
    await sketched(shifted, 30);

    const a = await monitorNow(calm);
    expect(a).toMatchObject({ status: 'ok', drifted: false, rows: env.data.test.length, retrainSignalled: false });
    const b = await monitorNow(shifted);
    expect(b).toMatchObject({ status: 'ok', drifted: true, rows: 300 });

    const [report] = await listMonitoringReports(env.store, shifted, 5);
    expect(report._id).toBe(b.reportId);
    expect(report.version).toBe(1);
    // The penguins training split has 258 rows: Evidently's small-reference tests decide (the
    // Z-test for `sex`, which has two values).
    expect(report.features.map((f) => [f.name, f.method])).toEqual(
      penguinsFeatures.map((f) => [f.name, f.type === 'numeric' ? 'ks' : f.name === 'sex' ? 'z' : 'chi2'])
    );
    const mass = report.features.find((f) => f.name === 'body_mass_g')!;
    expect(mass.drifted).toBe(true);
    expect(mass.stats.ks_p).toBeLessThan(1e-6);
    expect(mass.outOfRangeRate).toBeGreaterThan(0.05);
    expect(report.prediction?.name).toBe('label');
    expect(report.dataset?.share).toBeGreaterThanOrEqual(0.5);

    // The worker's gauges name model, feature and method.
    const text = await env.registry.getSingleMetricAsString('mlops_feature_drift');
    expect(text).toContain(`mlops_feature_drift{model="${shifted}",feature="body_mass_g",method="ks_p"}`);
    expect(await env.registry.getSingleMetricAsString('mlops_feature_drifted')).toContain(
      `mlops_feature_drifted{model="${shifted}",feature="body_mass_g"} 1`
    );
    // And the predictions' drift (the species predicted: categorical statistics).
    expect(await env.registry.getSingleMetricAsString('mlops_prediction_drift')).toContain(
      `mlops_prediction_drift{model="${shifted}",method="jensen_shannon"}`
    );
    expect(await env.registry.getSingleMetricAsString('mlops_prediction_drifted')).toContain(
      `mlops_prediction_drifted{model="${shifted}"} ${report.prediction!.drifted ? 1 : 0}`
    );

    // An audit entry per window.
    const audit = await listAudit(env.store.db, { action: 'model.monitor', limit: 50 });
    expect(audit.map((e) => e.object.id)).toEqual(expect.arrayContaining([a.reportId, b.reportId]));

    // The same window again replaces its report instead of adding one.
    const again = await monitorNow(calm);
    expect(again.reportId).toBe(a.reportId);
    expect(await listMonitoringReports(env.store, calm, 10)).toHaveLength(1);
  });

  it('false alarms on traffic from the data stay rare over 40 seeds (stated in docs/monitoring.md)', async () => {
    // Each seed splits the data anew: the reference is that split's training rows, the traffic
    // its held-out rows, so both are independent draws from one distribution.
    const all = penguins();
    let alarms = 0;
    let columnAlarms = 0;
    const seeds = 40;
    for (let seed = 1; seed <= seeds; seed++) {
      const s = split(all.length, 0.25, 100 + seed);
      const train = slice(all, s.train);
      const test = slice(all, s.test);
      const profile = { rows: train.length, features: profileFrame(train, penguinsFeatures), prediction: null };
      const acc = new WindowAccumulator(profile, { thresholds: thresholdsOf(undefined) });
      acc.add({ inputs: penguinsRequest(test).inputs, outputs: [] });
      const summary = acc.summary();
      if (summary.dataset.drifted) alarms++;
      columnAlarms += summary.dataset.driftedColumns;
    }
    console.log(
      `false alarms over ${seeds} seeds: dataset ${alarms}/${seeds}, columns ${columnAlarms}/${seeds * penguinsFeatures.length}`
    );
    expect(alarms).toBe(0);
    expect(columnAlarms / (seeds * penguinsFeatures.length)).toBeLessThan(0.1);
  });

  it('reports quality once enough labels arrive, and signals the lifecycle workflow on drift', async () => {
    const model = await env.model();
    await env.policy(model, {
      monitor: { every: EVERY, window: '1h', minRows: 50, minLabels: 20 },
      retrain: { onDrift: true, spec: { model, dataset: { name: 'penguins' }, target: 'species' } },
    });
    const frame = sample(env.data.test, 200, 21, true);
    const ids = await send(env, model, frame, 10);
    // Labels for every request: the true species of its 10 rows.
    const species = frame.columns.species as (string | null)[];
    const items = ids.map((requestId, k) => ({
      requestId,
      labels: species.slice(k * 10, k * 10 + 10).map((x) => x ?? ''),
    }));
    const sent = await call(api, 'POST', `/v1/models/${model}/feedback`, {
      token: api.tokens.predictor,
      body: { items },
    });
    expect(sent.body).toEqual({ accepted: ids.length, created: ids.length, replaced: 0 });
    // Validated at the edge: one of label / labels, at most 1000 requests per call.
    const both = await call(api, 'POST', `/v1/models/${model}/feedback`, {
      token: api.tokens.predictor,
      body: { items: [{ requestId: ids[0], label: 'x', labels: ['x'] }] },
    });
    expectProblem(both, 400);
    expect(both.text).toContain('either `label`');
    // (1001 requests are over the edge's 2000-keys cap before the schema's 1000: 413.)
    const many = Array.from({ length: 1001 }, (_, i) => ({ requestId: `r${i}`, label: 'x' }));
    expectProblem(
      await call(api, 'POST', `/v1/models/${model}/feedback`, { token: api.tokens.predictor, body: { items: many } }),
      413
    );
    expectProblem(
      await call(api, 'POST', `/v1/models/nope-${model}/feedback`, { token: api.tokens.predictor, body: { items } }),
      404
    );
    await sketched(model, ids.length);
    const r = await monitorNow(model);
    expect(r).toMatchObject({ drifted: true, retrainSignalled: true });
    const [report] = await listMonitoringReports(env.store, model, 1);
    expect(report.quality).toMatchObject({ labels: 200 });
    expect(report.quality!.accuracy).toBeGreaterThan(0);
    expect(report.quality!.accuracy).toBeLessThanOrEqual(1);

    // The drift trigger reached the model's one lifecycle workflow (signal-with-start).
    const lifecycle = env.client.workflow.getHandle(lifecycleWorkflowId(model));
    const history = await lifecycle.fetchHistory();
    const signal = history.events?.find(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === RETRAIN_TRIGGER_SIGNAL
    );
    expect(signal).toBeDefined();
    await lifecycle.terminate('test done').catch(() => undefined);
  });

  it('labels rows by the id column the policy names: taken out before the model, logged, joined', async () => {
    const model = await env.model();
    const monitor = { every: EVERY, window: '1h', minRows: 10, minLabels: 20 };
    await env.policy(model, { monitor });
    const frame = sample(env.data.test, 60, 41);
    const probe = { id: `probe-${randomUUID()}`, ...penguinsRequest(frame, 0, 1, 'penguin_id') };
    // No id column in the policy: the input is unknown to the model, refused as ever.
    const refused = await infer(env.server.url, model, env.tokens.predictor, probe);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain("unknown input(s) 'penguin_id'");

    // With one, the server takes it up on its next poll (never per request).
    await env.policy(model, { monitor: { ...monitor, idColumn: 'penguin_id' } });
    await waitFor(
      'the id column applied',
      async () => (await infer(env.server.url, model, env.tokens.predictor, probe)).status === 200,
      30_000
    );
    const bad = penguinsRequest(frame, 0, 2, 'penguin_id');
    bad.inputs[0].data[1] = null;
    const badAnswer = await infer(env.server.url, model, env.tokens.predictor, bad);
    expect(badAnswer.status).toBe(400);
    expect(badAnswer.body.error).toContain("id column 'penguin_id' element 1 is null");

    const ids = await send(env, model, frame, 10, 'penguin_id');
    // Logged with the ids; the model's inputs (and so the sketches) without them.
    await waitFor(
      'the logged requests',
      async () => (await env.store.db.collection('prediction_log').countDocuments({ requestId: { $in: ids } })) === 6,
      30_000
    );
    const logged = await env.store.db.collection('prediction_log').findOne({ requestId: ids[1] });
    expect(logged?.rowIds).toEqual(Array.from({ length: 10 }, (_, i) => `r${10 + i}`));
    expect((logged?.inputs as { name: string }[]).map((i) => i.name)).not.toContain('penguin_id');

    const species = frame.columns.species as (string | null)[];
    const rows = species.map((label, i) => ({ id: `r${i}`, label: label ?? '' }));
    const sent = await call(api, 'POST', `/v1/models/${model}/feedback`, {
      token: api.tokens.predictor,
      body: { rows },
    });
    expect(sent.body).toEqual({ accepted: 60, created: 60, replaced: 0 });
    // Sending an id again replaces its label.
    const again = await call(api, 'POST', `/v1/models/${model}/feedback`, {
      token: api.tokens.predictor,
      body: { rows: [rows[0]] },
    });
    expect(again.body).toEqual({ accepted: 1, created: 0, replaced: 1 });
    const both = await call(api, 'POST', `/v1/models/${model}/feedback`, {
      token: api.tokens.predictor,
      body: { rows, items: [{ requestId: ids[0], label: 'x' }] },
    });
    expectProblem(both, 400);
    expect(both.text).toContain('either `items`');

    await sketched(model, ids.length + 1);
    await monitorNow(model);
    const [report] = await listMonitoringReports(env.store, model, 1);
    expect(report.quality).toMatchObject({ labels: 60 });
    // Held-out rows, undrifted: the model is right about most of them.
    expect(report.quality!.accuracy).toBeGreaterThan(0.8);
  });

  it('renders the HTML report in headless Chromium with one chart per feature, no external assets', async () => {
    const model = await env.model();
    await env.policy(model, { monitor: { every: EVERY, window: '1h', minRows: 10 } });
    await send(env, model, sample(env.data.test, 100, 31, true));
    await sketched(model, 10);
    await monitorNow(model);
    const [report] = await listMonitoringReports(env.store, model, 1);
    const html = (await readArtifact(env.store, report.html!)).toString('utf8');
    // Through the API: the latest report with its history, and the same page by window end.
    const shown = await call(api, 'GET', `/v1/models/${model}/monitoring`, { token: api.tokens.viewer });
    expect(shown.body).toMatchObject({ model, latest: { id: report._id, drifted: true }, schedule: null });
    expect(shown.body.history[0].features).toHaveLength(penguinsFeatures.length);
    const page = await call(api, 'GET', `/v1/models/${model}/monitoring/${report.window.to.toISOString()}/html`, {
      token: api.tokens.viewer,
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).toBe(html);
    // `mlops monitor show`: a row per feature, with its sparkline.
    let out = '';
    const code = await runCli(['monitor', 'show', model], {
      env: { MLOPS_API_URL: api.url, MLOPS_TOKEN: api.tokens.viewer, MLOPS_CONFIG: '/nonexistent/none.json' },
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
    });
    expect(code).toBe(0);
    expect(out).toContain('DATASET DRIFT');
    for (const f of penguinsFeatures) expect(out).toMatch(new RegExp(`^${f.name} .*[▁▂▃▄▅▆▇█]$`, 'm'));
    expectProblem(
      await call(api, 'GET', `/v1/models/${model}/monitoring/2000-01-01T00:00:00.000Z/html`, {
        token: api.tokens.viewer,
      }),
      404
    );
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'report-'));
    const file = path.join(dir, 'report.html');
    writeFileSync(file, html);
    const browser = new Browser();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      await page.waitFor("document.querySelectorAll('svg.chart').length > 0", 30_000, 'the charts');
      const charts = await page.evaluate<string[]>(
        "[...document.querySelectorAll('svg.chart.feature')].filter(s => s.getBoundingClientRect().width > 100 && s.querySelectorAll('rect').length > 0).map(s => s.dataset.column)"
      );
      expect(charts).toEqual(penguinsFeatures.map((f) => f.name));
      expect(await page.evaluate<number>("document.querySelectorAll('svg.chart.prediction').length")).toBe(1);
    } finally {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('monitoring schedule', () => {
  it('fires every interval, pauses and resumes, follows policy changes and is deleted without a policy', async () => {
    const model = await env.model();
    await env.policy(model, { monitor: { every: EVERY, window: '1h' } });
    const queues = env.cfg.queues;
    expect(await syncMonitorSchedule(env.client, model, { every: EVERY }, queues)).toBe('created');
    expect(await syncMonitorSchedule(env.client, model, { every: EVERY }, queues)).toBe('updated');
    // It fires: a report of a window appears without anyone starting a workflow.
    await waitFor(
      'a scheduled report',
      async () => (await listMonitoringReports(env.store, model, 1)).length > 0,
      150_000
    );
    const fired = await describeMonitorSchedule(env.client, model);
    expect(fired).toMatchObject({ scheduleId: monitorScheduleId(model), paused: false });
    expect(fired!.recentRuns.length).toBeGreaterThan(0);

    const pausedByApi = await call(api, 'POST', `/v1/models/${model}/monitoring/pause`, {
      token: api.tokens.scientist,
      body: { note: 'maintenance' },
    });
    expect(pausedByApi.body).toEqual({
      model,
      paused: true,
      note: 'maintenance',
      schedules: [monitorScheduleId(model)],
    });
    const paused = await describeMonitorSchedule(env.client, model);
    expect(paused).toMatchObject({ paused: true, note: 'maintenance' });
    const runsWhenPaused = paused!.recentRuns.length;
    await new Promise((r) => setTimeout(r, EVERY + 3_000));
    expect((await describeMonitorSchedule(env.client, model))!.recentRuns.length).toBe(runsWhenPaused);
    // A policy change keeps the pause.
    expect(await syncMonitorSchedule(env.client, model, { every: 60_000 }, queues)).toBe('updated');
    expect((await describeMonitorSchedule(env.client, model))!.paused).toBe(true);
    // The body (a note) is optional: a bare POST, as docs/monitoring.md shows it, resumes.
    expect(
      (await call(api, 'POST', `/v1/models/${model}/monitoring/resume`, { token: api.tokens.scientist })).status
    ).toBe(200);
    expect((await describeMonitorSchedule(env.client, model))!.paused).toBe(false);

    expect(await syncMonitorSchedule(env.client, model, undefined, queues)).toBe('deleted');
    expect(await describeMonitorSchedule(env.client, model)).toBeNull();
    expect(await syncMonitorSchedule(env.client, model, undefined, queues)).toBe('absent');
    expect(await setMonitorSchedulePaused(env.client, model, true, 'x')).toBe(false);
  }, 300_000);
});

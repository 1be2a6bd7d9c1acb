// /metrics parses as Prometheus text and carries the request histogram (by route
// template and status), runs by status, stage totals and Node defaults; /openapi.json
// describes every route the app serves.
import { recordStepEnd } from '../../../lib/store/events';
import { createRun, updateRun } from '../../../lib/store/runs';
import { openApiPath } from '../../../api/route';
import { parsePrometheusText } from './prom-text';
import { call, MINIMAL_SPEC, startTestApi, type TestApi } from './helpers';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ limits: { metricsCacheMs: 0 } });
  await createRun(api.store, { runId: 'run-x1', model: 'm', spec: MINIMAL_SPEC });
  await createRun(api.store, { runId: 'run-x2', model: 'm', spec: MINIMAL_SPEC });
  await updateRun(api.store, 'run-x2', { status: 'succeeded', stage: 'done' });
  const t = new Date(Date.now() - 1500);
  await recordStepEnd(api.store, {
    runId: 'run-x2',
    step: 'train',
    attempt: 1,
    status: 'completed',
    startedAt: t,
    endedAt: new Date(t.getTime() + 1500),
  });
});
afterAll(async () => {
  await api?.close();
});

it('/metrics is valid Prometheus text with the API families', async () => {
  await call(api, 'GET', '/v1/runs/run-x1', { token: api.tokens.viewer });
  await call(api, 'GET', '/v1/runs/run-x1', { token: null });
  const r = await call(api, 'GET', '/metrics', { token: api.tokens.viewer });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusText(r.text);

  const http = families.get('mlops_http_request_duration_seconds')!;
  expect(http.type).toBe('histogram');
  const counts = http.samples.filter((s) => s.name.endsWith('_count'));
  expect(counts).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ labels: { method: 'GET', route: '/v1/runs/:id', status: '200' }, value: 1 }),
      expect.objectContaining({ labels: { method: 'GET', route: '/v1/runs/:id', status: '401' }, value: 1 }),
    ])
  );
  const runsByStatus = Object.fromEntries(families.get('mlops_runs')!.samples.map((s) => [s.labels.status, s.value]));
  expect(runsByStatus).toMatchObject({ running: 1, succeeded: 1, failed: 0 });
  expect(families.get('mlops_stage_completions_total')!.samples).toEqual([
    expect.objectContaining({ labels: { stage: 'train' }, value: 1 }),
  ]);
  expect(families.get('mlops_stage_duration_seconds_total')!.samples[0].value).toBeCloseTo(1.5, 3);
  expect(families.get('mlops_auth_failures_total')!.samples).toEqual([
    expect.objectContaining({ labels: { reason: 'missing' }, value: 1 }),
  ]);
  expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
  expect(families.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
});

it('/openapi.json documents every route with its roles', async () => {
  const r = await call(api, 'GET', '/openapi.json', { token: api.tokens.viewer });
  expect(r.body.openapi).toBe('3.1.0');
  for (const route of api.app.routes) {
    const op = r.body.paths[openApiPath(route.path)]?.[route.method];
    expect({ route: `${route.method} ${route.path}`, documented: Boolean(op) }).toEqual({
      route: `${route.method} ${route.path}`,
      documented: true,
    });
    expect(Object.keys(op.responses).length).toBeGreaterThan(0);
  }
  const start = r.body.paths['/v1/runs'].post;
  expect(start['x-roles']).toEqual(['scientist', 'admin']);
  expect(start.requestBody.content['application/json'].schema.required).toEqual(['model', 'dataset', 'target']);
  expect(start.parameters).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })])
  );
});

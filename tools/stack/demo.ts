// The main job `npm start` runs once the stack is up: a pipeline on the bundled penguins
// dataset, submitted over the API by a demo scientist token (so that the admin, a second
// person, may approve it: four eyes). It prints each stage as the run moves and how to
// approve it, ends by printing one prediction of the promoted version from the inference server,
// and never stops the stack when it fails.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isTerminalStatus } from '../../lib/workflow-safe/statuses';

export const DEMO_SPEC = { model: 'penguins', dataset: { name: 'penguins' }, target: 'species' };

interface Api {
  (method: string, route: string, token: string, body?: unknown): Promise<any>;
}

function apiClient(base: string): Api {
  return async (method, route, token, body) => {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** A scientist token kept in the data dir (mode 0600), created once through the API. */
async function demoScientistToken(api: Api, adminToken: string, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'demo-scientist-token');
  const existing = await fs.readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const created = await api('POST', '/v1/tokens', adminToken, {
    name: 'demo scientist (npm start)',
    subject: 'demo-scientist',
    role: 'scientist',
  });
  await fs.writeFile(file, `${created.token}\n`, { mode: 0o600 });
  return created.token;
}

/** One penguin (the first row of datasets/penguins.csv) as an Open Inference Protocol request. */
export const DEMO_ROW = {
  bill_length_mm: 39.1,
  bill_depth_mm: 18.7,
  flipper_length_mm: 181,
  body_mass_g: 3750,
  island: 'Torgersen',
  sex: 'male',
  year: 2007,
};
const demoRequest = {
  inputs: Object.entries(DEMO_ROW).map(([name, v]) => ({
    name,
    shape: [1, 1],
    datatype: typeof v === 'number' ? 'FP32' : 'BYTES',
    data: [v],
  })),
};

/** Asks the inference server until the promoted version answers (it follows the alias within seconds). */
async function printPrediction(
  inferenceUrl: string,
  token: string,
  model: string,
  version: number,
  log: (l: string) => void
) {
  const url = `${inferenceUrl}/v2/models/${model}/infer`;
  let last = 'no answer';
  for (let tries = 0; tries < 30; tries++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(demoRequest),
    });
    const body = (await res.json()) as {
      model_version?: string;
      error?: string;
      outputs: { name: string; data: (string | number)[] }[];
    };
    last = `${res.status} ${body.error ?? `model_version ${body.model_version ?? '-'}`}`;
    if (res.ok && body.model_version === String(version)) {
      const label = body.outputs.find((o) => o.name === 'label')?.data[0];
      const p = (body.outputs.find((o) => o.name === 'probabilities')?.data ?? []) as number[];
      log(
        `demo: ${model} v${version} predicts ${label} (p=${Math.max(...p).toFixed(3)}) for ${JSON.stringify(DEMO_ROW)}`
      );
      log(
        `demo: try it:  curl -s ${url} -H "Authorization: Bearer $(cat data/demo-scientist-token)" -d '${JSON.stringify(demoRequest)}'`
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`the inference server did not answer with ${model} v${version} at ${url} (last answer: ${last})`);
}

export async function runDemo(opts: {
  apiUrl: string;
  inferenceUrl: string;
  adminToken: string;
  dataDir: string;
  temporalUi: string;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<void> {
  const { log } = opts;
  const api = apiClient(opts.apiUrl);
  const token = await demoScientistToken(api, opts.adminToken, opts.dataDir);
  const { runId } = await api('POST', '/v1/runs', token, DEMO_SPEC);
  log(`demo: started run ${runId} (${JSON.stringify(DEMO_SPEC)})`);
  log(`demo: watch it at ${opts.temporalUi}/namespaces/default/workflows/${runId}`);
  let last = '';
  while (!opts.signal.aborted) {
    const run = await api('GET', `/v1/runs/${runId}`, opts.adminToken);
    const now = `${run.status}/${run.stage}`;
    if (now !== last) {
      last = now;
      log(
        `demo: ${runId} ${run.status} at ${run.stage}${run.model?.version ? ` (model ${run.model.name} v${run.model.version})` : ''}`
      );
      if (run.status === 'awaiting_approval') {
        // The CLI defaults to this API URL and ./data/admin-token; spell out what differs.
        const env = [
          opts.apiUrl !== 'http://127.0.0.1:8080' ? `MLOPS_API_URL=${opts.apiUrl}` : '',
          path.resolve('data') !== opts.dataDir ? `MLOPS_DATA_DIR=${opts.dataDir}` : '',
        ].filter(Boolean);
        const cli = `${env.length ? `${env.join(' ')} ` : ''}npm run mlops -- runs`;
        log(`demo: approve it with:  ${cli} approve ${runId}   (or reject: ${cli} reject ${runId})`);
      }
      if (isTerminalStatus(run.status)) {
        if (run.status === 'succeeded' && run.model?.version) {
          await printPrediction(opts.inferenceUrl, token, run.model.name, run.model.version, log);
        }
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

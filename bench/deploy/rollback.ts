// Rollout benchmark (issue 14) on the embedded stack: a real inference server (serving/main.ts)
// under a paced load of --rate requests/s (default 200), the control worker in-process.
//   bad:  a candidate failing half its requests (MLOPS_INFERENCE_FAULTS) at 5%: the time from the
//         failing gate evaluation to the rollback split written, and to the last answer a caller got
//         from the candidate; how many requests the candidate answered before the rollback.
//   good: a candidate through 5 -> 50 -> 100 with a short bake (--bake seconds, default 2): the
//         time from start to production.
//   npx tsx bench/deploy/rollback.ts [--rate 200] [--bake 2]
// Prints a table and writes bench/results/deploy-rollback.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createControlActivities } from '../../activities';
import { deploySchema } from '../../lib/spec/deploy';
import { openStore } from '../../lib/store/db';
import { listDeploymentDecisions } from '../../lib/store/deployment-records';
import { trafficSplits } from '../../lib/store/deployments';
import { predictorToken } from '../serving/common';
import { createClient, createWorkerConnection } from '../../lib/temporal/connection';
import { createFleetWorker } from '../../workers/bootstrap';
import { rolloutWorkflowId } from '../../workflows/rollout-messages';
import type { RolloutInput, RolloutResult } from '../../workflows/rollout';
import {
  penguinsRequest,
  penguinsSplit,
  registerPenguins,
  spawnInference,
} from '../../test/integration/serving/helpers';
import { table } from '../ml/common';
import { arg, startBenchStack } from '../stack';

const rate = arg('rate', 200);
const bakeS = arg('bake', 2);

async function main() {
  const stack = await startBenchStack('deploy-bench');
  const model = `penguins-${randomUUID().slice(0, 6)}`;
  const cfg = stack.config({ MLOPS_ADMIN_TOKEN: `admin-${randomUUID()}` });
  const store = await openStore(cfg);
  const data = penguinsSplit();
  await registerPenguins(store, model, data, { seed: 1 }); // v1 production
  await registerPenguins(store, model, data, { seed: 2, promote: false }); // v2 good
  await registerPenguins(store, model, data, { seed: 3, promote: false }); // v3 faulted
  const token = await predictorToken(store);
  const server = await spawnInference(cfg, {
    MLOPS_INFERENCE_FAULTS: JSON.stringify({ [`${model}@3`]: { errorRate: 0.5, delayMs: 0 } }),
  });
  const connection = await createWorkerConnection(cfg);
  const worker = await createFleetWorker({
    kind: 'control',
    cfg,
    connection,
    activities: createControlActivities({ cfg, store }),
    workflowBundle: { code: stack.workflowCode },
  });
  const running = worker.run();
  const client = await createClient(cfg);

  // Paced load: one request every 1000/rate ms, each from its own caller.
  const answers: { version: string; status: number; at: number }[] = [];
  let n = 0;
  const body = (i: number) =>
    JSON.stringify(penguinsRequest(data.test, i % data.test.length, (i % data.test.length) + 1));
  const timer = setInterval(() => {
    const i = n++;
    void fetch(`${server.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-mlops-caller': `c${i}` },
      body: body(i),
    })
      .then(async (r) => {
        await r.arrayBuffer();
        answers.push({ version: r.headers.get('x-model-version') ?? '?', status: r.status, at: Date.now() });
      })
      .catch(() => undefined);
  }, 1000 / rate);

  const rollout = async (version: number, steps: number[]) => {
    const input: RolloutInput = {
      deploymentId: `${model}-v${version}-bench`,
      model,
      version,
      deploy: deploySchema.parse({
        steps,
        bake: bakeS * 1000,
        checkEvery: '250ms',
        serverTimeout: '60s',
        gates: { minRequests: 20, maxErrorRate: 0.05, maxP99Ms: 1000, maxPredictionShift: 0.3 },
      }),
      requestedBy: 'bench',
      runId: null,
      queues: { control: cfg.queues.control },
    };
    const started = Date.now();
    const result = (await client.workflow.execute('rollout', {
      taskQueue: cfg.queues.control,
      workflowId: rolloutWorkflowId(model),
      args: [input],
    })) as RolloutResult;
    return { result, ms: Date.now() - started };
  };

  const bad = await rollout(3, [5, 100]);
  const decisions = await listDeploymentDecisions(store, bad.result.deploymentId);
  const failedAt = decisions.find((d) => d.kind === 'rollback')!.metrics as unknown as { window: { until: number } };
  const split = await trafficSplits(store.db).findOne({ _id: model });
  const v3 = answers.filter((a) => a.version === '3');
  const lastV3 = Math.max(...v3.map((a) => a.at));
  const good = await rollout(2, [5, 50, 100]);
  clearInterval(timer);

  const result = {
    rate,
    bakeS,
    bad: {
      state: bad.result.state,
      reason: bad.result.reason,
      gateToSplitWrittenMs: split!.updatedAt.getTime() - failedAt.window.until,
      gateToLastCandidateAnswerMs: lastV3 - failedAt.window.until,
      candidateAnswered: v3.length,
      candidateErrors: v3.filter((a) => a.status >= 500).length,
    },
    good: { state: good.result.state, steps: '5,50,100', fullRolloutMs: good.ms },
  };
  mkdirSync(path.join(__dirname, '../results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../results/deploy-rollback.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  console.log(
    table([
      { measure: 'bad: failing gate -> rollback split written (ms)', value: result.bad.gateToSplitWrittenMs },
      { measure: 'bad: failing gate -> last candidate answer (ms)', value: result.bad.gateToLastCandidateAnswerMs },
      { measure: 'bad: requests the candidate answered', value: result.bad.candidateAnswered },
      { measure: `good: full rollout 5->50->100, bake ${bakeS}s (ms)`, value: result.good.fullRolloutMs },
    ])
  );
  worker.shutdown();
  await running;
  await connection.close();
  await client.connection.close();
  await server.child.stop(5_000);
  await store.close();
  await stack.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

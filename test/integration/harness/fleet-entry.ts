// Test-only fleet worker process: runs the fleets named in TEST_FLEET_KINDS (default "gpu,cpu")
// on the queues from the environment. Plain Node like workers/gpu.ts: onnxruntime needs a real
// realm (jest's sandbox breaks its instanceof checks), and a child can be SIGKILLed or SIGTERMed.
// Hooks, so a test can stop a worker in the middle of something:
//   TEST_EPOCH_DELAY_MS  sleep after every training epoch; prints "EPOCH <n>"
//   TEST_SHARD_DELAY_MS  sleep (heartbeating) before each data-parallel shard; prints "SHARD <round> <index> <pid>"
//   TEST_BATCH_DELAY_MS  sleep before each slice of a batch chunk; prints "BATCH <chunk> <offset> <pid>"
//   TEST_FEATURE_DELAY_MS  sleep after writing a feature partition, before recording it;
//                          prints "FEATURE_PARTITION <start> <pid>"
// Prints "FLEET READY <pid>" once its workers poll (see spawnTestFleet in env.ts).
import { Context } from '@temporalio/activity';
import { createActivities } from '../../../activities';
import { loadConfig } from '../../../lib/config';
import { openStore } from '../../../lib/store/db';
import { createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker, type FleetKind } from '../../../workers/bootstrap';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const cfg = loadConfig();
  const kinds = (process.env.TEST_FLEET_KINDS ?? 'gpu,cpu').split(',') as FleetKind[];
  const epochDelay = Number(process.env.TEST_EPOCH_DELAY_MS ?? 0);
  const shardDelay = Number(process.env.TEST_SHARD_DELAY_MS ?? 0);
  const batchDelay = Number(process.env.TEST_BATCH_DELAY_MS ?? 0);
  const featureDelay = Number(process.env.TEST_FEATURE_DELAY_MS ?? 0);
  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  const activities = createActivities({
    cfg,
    store,
    hooks: {
      async afterEpoch(epoch) {
        console.log(`EPOCH ${epoch}`);
        if (epochDelay > 0) await sleep(epochDelay);
      },
      async beforeShard(round, index) {
        console.log(`SHARD ${round} ${index} ${process.pid}`);
        for (let waited = 0; waited < shardDelay; waited += 200) {
          Context.current().heartbeat({ round, index, waiting: waited });
          await sleep(200);
        }
      },
      async beforeBatchRows(chunk, offset) {
        console.log(`BATCH ${chunk} ${offset} ${process.pid}`);
        if (batchDelay > 0) await sleep(batchDelay);
      },
      async afterFeaturePartition(partition) {
        console.log(`FEATURE_PARTITION ${partition.start} ${process.pid}`);
        if (featureDelay > 0) await sleep(featureDelay);
      },
    },
  });
  const workers = await Promise.all(
    kinds.map((kind) =>
      createFleetWorker({
        kind,
        cfg,
        connection,
        activities: activities[kind],
        // A control fleet reuses the run's prebuilt bundle (TEST_WORKFLOW_BUNDLE) instead of bundling again.
        workflowBundle: process.env.TEST_WORKFLOW_BUNDLE ? { codePath: process.env.TEST_WORKFLOW_BUNDLE } : undefined,
      })
    )
  );
  const running = workers.map((w) => w.run());
  console.log(`FLEET READY ${process.pid}`);
  await Promise.all(running);
  console.log(`FLEET STOPPED ${process.pid}`);
  await connection.close();
  await store.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

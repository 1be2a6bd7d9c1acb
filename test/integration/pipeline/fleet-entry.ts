// Test-only worker process: runs the fleets named in PIPELINE_TEST_KINDS (e.g. "gpu,cpu") on the
// queues from the environment, with optional test hooks:
//   PIPELINE_TEST_EPOCH_DELAY_MS  sleep after every training epoch (so a test can kill mid-training)
// Prints "FLEET READY <pid>" once its workers poll, and "EPOCH <n>" after each epoch.
// Runs as a plain Node process (not inside jest), like the production worker entries.
import { createActivities } from '../../../activities';
import { loadConfig } from '../../../lib/config';
import { openStore } from '../../../lib/store/db';
import { createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker, type FleetKind } from '../../../workers/bootstrap';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const kinds = (process.env.PIPELINE_TEST_KINDS ?? 'gpu,cpu').split(',') as FleetKind[];
  const delay = Number(process.env.PIPELINE_TEST_EPOCH_DELAY_MS ?? 0);
  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  const activities = createActivities({
    cfg,
    store,
    hooks: {
      async afterEpoch(epoch) {
        console.log(`EPOCH ${epoch}`);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      },
    },
  });
  const workers = await Promise.all(
    kinds.map((kind) => createFleetWorker({ kind, cfg, connection, activities: activities[kind] }))
  );
  const running = workers.map((w) => w.run());
  console.log(`FLEET READY ${process.pid}`);
  await Promise.all(running);
  await connection.close();
  await store.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Test-only GPU-fleet worker process for the fleet tests (plain Node, like workers/gpu.ts: the
// built-in trainer's onnxruntime needs a real realm, and a child can be SIGKILLed or SIGTERMed).
// Env hooks:
//   FLEETS_TEST_SHARD_DELAY_MS  sleep (heartbeating) before each shard, so a test can kill mid-round
//   FLEETS_TEST_KINDS           fleets to run (default "gpu")
// Prints "FLEET READY <pid>" once polling, and "SHARD <round> <index> <pid>" as each shard starts.
import { Context } from '@temporalio/activity';
import { createActivities } from '../../../activities';
import { createDistributedActivities } from '../../../activities/distributed';
import { loadConfig } from '../../../lib/config';
import { openStore } from '../../../lib/store/db';
import { createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker, type FleetKind } from '../../../workers/bootstrap';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const kinds = (process.env.FLEETS_TEST_KINDS ?? 'gpu').split(',') as FleetKind[];
  const delay = Number(process.env.FLEETS_TEST_SHARD_DELAY_MS ?? 0);
  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  const deps = { cfg, store };
  const all = createActivities(deps);
  const gpu = {
    ...all.gpu,
    ...createDistributedActivities(deps, {
      async beforeShard(round, index) {
        console.log(`SHARD ${round} ${index} ${process.pid}`);
        for (let waited = 0; waited < delay; waited += 200) {
          Context.current().heartbeat({ round, index, waiting: waited });
          await new Promise((r) => setTimeout(r, 200));
        }
      },
    }),
  };
  const acts = { ...all, gpu };
  const workers = await Promise.all(
    kinds.map((kind) => createFleetWorker({ kind, cfg, connection, activities: acts[kind] }))
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

// The harness itself: a workflow on the real dev server, run by a fleet worker created
// here, whose activity writes to and reads back from the real MongoDB-wire server.
import { randomUUID } from 'node:crypto';
import { openStore, Store } from '../../../lib/store/db';
import { createClient, createWorkerConnection } from '../../../lib/temporal/connection';
import { createFleetWorker } from '../../../workers/bootstrap';
import { createFixtureActivities } from '../harness/fixtures/activities';
import { fixtureWorkflowBundle, testConfig } from '../harness/env';

describe('integration harness', () => {
  const cfg = testConfig();
  let store: Store;

  beforeAll(async () => {
    store = await openStore(cfg);
  });
  afterAll(async () => {
    await store.close();
  });

  it('runs a workflow whose activity round-trips a document through MongoDB', async () => {
    const connection = await createWorkerConnection(cfg);
    const client = await createClient(cfg);
    const activities = createFixtureActivities(store.db);
    const control = await createFleetWorker({
      kind: 'control',
      cfg,
      connection,
      activities: {},
      workflowBundle: fixtureWorkflowBundle(),
    });
    const cpu = await createFleetWorker({ kind: 'cpu', cfg, connection, activities });
    const key = randomUUID();
    try {
      const result = await control.runUntil(
        cpu.runUntil(
          client.workflow.execute('storeRoundTrip', {
            taskQueue: cfg.queues.control,
            workflowId: `smoke-${key}`,
            args: [{ key, value: 'hello', cpuQueue: cfg.queues.cpu }],
          })
        )
      );
      expect(result).toBe('hello');
      const doc = await store.db.collection<{ _id: string; value: string }>('harness_smoke').findOne({ _id: key });
      expect(doc?.value).toBe('hello');
      const history = await client.workflow.getHandle(`smoke-${key}`).fetchHistory();
      expect(history.events?.some((e) => e.activityTaskCompletedEventAttributes)).toBe(true);
    } finally {
      await client.connection.close();
      await connection.close();
    }
  });
});

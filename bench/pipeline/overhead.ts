// Orchestration overhead of the pipeline on the embedded stack (Temporal dev server + FerretDB,
// all three fleets in this process): for each run, wall time (workflow started -> completed, from
// the server's history) minus the time spent inside activities (ActivityTaskStarted ->
// ActivityTaskCompleted), divided by the number of steps. Also per activity type: how long a
// task waited to be picked up (scheduled -> started) and how long the workflow took to schedule
// the next step after one completed (completed -> next scheduled).
//
//   npx tsx bench/pipeline/overhead.ts [--runs 10] [--epochs 5]
//
// Prints one JSON document, then a table. Not a test: nothing here asserts on wall time.
import os from 'node:os';
import { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { parseRunSpec } from '../../lib/spec';
import { openStore } from '../../lib/store/db';
import { getRunEvents } from '../../lib/store/events';
import { createClient, createDataConverter, createWorkerConnection } from '../../lib/temporal/connection';
import { createFleetWorker } from '../../workers/bootstrap';
import type { PipelineInput, PipelineResult } from '../../workflows/pipeline';
import { arg, ms, quietLogger, startBenchStack } from '../stack';

const EventType = temporal.api.enums.v1.EventType;

interface StepTiming {
  step: string;
  queue: string;
  scheduleToStartMs: number;
  inActivityMs: number;
  /** Completed -> the next command the workflow scheduled (or the workflow completed). */
  turnaroundMs: number;
}

interface RunTiming {
  runId: string;
  status: string;
  wallMs: number;
  inActivityMs: number;
  steps: number;
  overheadMs: number;
  overheadPerStepMs: number;
  stepTimings: StepTiming[];
  /** Same, with the time each pipeline step measured inside itself (run_events durations). */
  measured?: { steps: number; inStepMs: number; overheadPerStepMs: number };
}

function analyse(runId: string, status: string, events: temporal.api.history.v1.IHistoryEvent[]): RunTiming {
  const byId = new Map<number, temporal.api.history.v1.IHistoryEvent>();
  for (const e of events) byId.set(Number(e.eventId), e);
  const start = ms(events[0].eventTime);
  const end = ms(events[events.length - 1].eventTime);
  const commandTimes = events
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ||
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    )
    .map((e) => ms(e.eventTime));
  const steps: StepTiming[] = [];
  for (const e of events) {
    if (e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) continue;
    const a = e.activityTaskCompletedEventAttributes!;
    const started = byId.get(Number(a.startedEventId))!;
    const scheduled = byId.get(Number(a.scheduledEventId))!;
    const s = scheduled.activityTaskScheduledEventAttributes!;
    const done = ms(e.eventTime);
    const next = commandTimes.find((t) => t > done) ?? end;
    steps.push({
      step: s.activityType?.name ?? '?',
      queue: s.taskQueue?.name ?? '?',
      scheduleToStartMs: ms(started.eventTime) - ms(scheduled.eventTime),
      inActivityMs: done - ms(started.eventTime),
      turnaroundMs: next - done,
    });
  }
  const inActivity = steps.reduce((t, s) => t + s.inActivityMs, 0);
  const wall = end - start;
  return {
    runId,
    status,
    wallMs: wall,
    inActivityMs: inActivity,
    steps: steps.length,
    overheadMs: wall - inActivity,
    overheadPerStepMs: (wall - inActivity) / Math.max(steps.length, 1),
    stepTimings: steps,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const runs = arg('runs', 10);
  const epochs = arg('epochs', 5);
  const stack = await startBenchStack('mlops-bench');
  const { id } = stack;
  const cfg = stack.config();
  const code = stack.workflowCode;
  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  const activities = createActivities({ cfg, store });
  const workers = await Promise.all(
    (['control', 'gpu', 'cpu'] as const).map((kind) =>
      createFleetWorker({ kind, cfg, connection, activities: activities[kind], workflowBundle: { code } })
    )
  );
  const running = workers.map((w) => w.run());
  const client = await createClient(cfg);
  const timings: RunTiming[] = [];
  const floor: { searchAttributes: boolean; overheadPerStepMs: number; wallMs: number }[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const runId = `bench-${id}-${i}`;
      const spec = parseRunSpec({
        model: `bench-${id}`,
        dataset: { name: 'penguins' },
        target: 'species',
        trainer: { epochs, hidden: [16], patience: 0 },
        approval: { required: false },
        gates: { maxRegression: null },
      });
      const input: PipelineInput = { runId, spec, queues: cfg.queues };
      const handle = await client.workflow.start('pipeline', {
        taskQueue: cfg.queues.control,
        workflowId: runId,
        args: [input],
      });
      const result = (await handle.result()) as PipelineResult;
      const history = await handle.fetchHistory();
      if (i === 0) continue; // warm-up: first bundle load, ORT init, index creation
      const t = analyse(runId, result.status, history.events ?? []);
      // The pipeline's own steps as the activities measured them (history writes excluded, so
      // they count as overhead).
      const steps = (await getRunEvents(store, runId)).filter(
        (e) => e.status === 'completed' && e.queue !== 'workflow'
      );
      const inStep = steps.reduce((a, e) => a + (e.durationMs ?? 0), 0);
      t.measured = {
        steps: steps.length,
        inStepMs: inStep,
        overheadPerStepMs: (t.wallMs - inStep) / Math.max(steps.length, 1),
      };
      timings.push(t);
    }
    // Platform floor: the same stack running a chain of no-op activities on the CPU queue.
    const floorBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./null-workflow'),
      logger: quietLogger,
    });
    const floorQueue = `floor-${id}`;
    const floorWorkflows = await Worker.create({
      connection,
      namespace: cfg.TEMPORAL_NAMESPACE,
      taskQueue: `${floorQueue}-wf`,
      workflowBundle: { code: floorBundle.code },
      dataConverter: await createDataConverter(cfg),
    });
    const floorActivities = await Worker.create({
      connection,
      namespace: cfg.TEMPORAL_NAMESPACE,
      taskQueue: floorQueue,
      activities: { noop: async (i: number) => i },
      dataConverter: await createDataConverter(cfg),
    });
    const floorRunning = [floorWorkflows.run(), floorActivities.run()];
    try {
      for (const sa of [false, true]) {
        for (let i = 0; i <= 3; i++) {
          const h = await client.workflow.start('nullChain', {
            taskQueue: `${floorQueue}-wf`,
            workflowId: `floor-${id}-${sa}-${i}`,
            args: [{ steps: 8, queue: floorQueue, searchAttributes: sa }],
          });
          await h.result();
          if (i === 0) continue;
          const t = analyse(h.workflowId, 'succeeded', (await h.fetchHistory()).events ?? []);
          floor.push({ searchAttributes: sa, overheadPerStepMs: t.overheadPerStepMs, wallMs: t.wallMs });
        }
      }
    } finally {
      floorWorkflows.shutdown();
      floorActivities.shutdown();
      await Promise.all(floorRunning);
    }
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await client.connection.close();
    await connection.close();
    await store.close();
    await stack.close();
  }

  const perStep = new Map<string, StepTiming[]>();
  for (const t of timings) for (const s of t.stepTimings) perStep.set(s.step, [...(perStep.get(s.step) ?? []), s]);
  const perRun = timings.map((t) => t.overheadPerStepMs);
  const summary = {
    bench: 'pipeline-orchestration-overhead',
    stack: 'embedded: temporal server start-dev (SQLite) + FerretDB (SQLite), fleets in-process',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    runs: timings.length,
    epochs,
    stepsPerRun: timings[0]?.steps,
    wallMsMean: mean(timings.map((t) => t.wallMs)),
    inActivityMsMean: mean(timings.map((t) => t.inActivityMs)),
    overheadPerStepMs: { mean: mean(perRun), p50: pct(perRun, 50), p95: pct(perRun, 95), max: Math.max(...perRun) },
    /** Wall time minus the time the 8 pipeline steps measured inside themselves, per step. */
    overheadPerPipelineStepMs: (() => {
      const xs = timings.map((t) => t.measured!.overheadPerStepMs);
      return { steps: timings[0]?.measured?.steps, mean: mean(xs), p50: pct(xs, 50), p95: pct(xs, 95) };
    })(),
    loadAverage: os.loadavg(),
    /** The same stack and moment: a workflow chaining 8 no-op activities (the platform's floor per step). */
    floorPerStepMs: {
      withoutSearchAttributes: mean(floor.filter((f) => !f.searchAttributes).map((f) => f.overheadPerStepMs)),
      withSearchAttributeUpserts: mean(floor.filter((f) => f.searchAttributes).map((f) => f.overheadPerStepMs)),
    },
    targetMs: 50,
    perStep: [...perStep.entries()].map(([step, xs]) => ({
      step,
      queue: xs[0].queue.replace(/-[0-9a-f]{8}$/, ''),
      inActivityMs: mean(xs.map((x) => x.inActivityMs)),
      scheduleToStartMs: mean(xs.map((x) => x.scheduleToStartMs)),
      turnaroundMs: mean(xs.map((x) => x.turnaroundMs)),
    })),
  };
  console.log(JSON.stringify(summary, null, 2));
  const f = (x: number) => x.toFixed(1).padStart(9);
  console.log('\nstep                queue      in-activity  sched->start  done->next  (ms, mean)');
  for (const s of summary.perStep) {
    console.log(
      `${s.step.padEnd(20)}${s.queue.padEnd(10)}${f(s.inActivityMs)}    ${f(s.scheduleToStartMs)}   ${f(s.turnaroundMs)}`
    );
  }
  console.log(
    `\nper run: wall ${summary.wallMsMean.toFixed(0)} ms, in activities ${summary.inActivityMsMean.toFixed(0)} ms, ${summary.stepsPerRun} steps; ` +
      `overhead per step mean ${summary.overheadPerStepMs.mean.toFixed(1)} ms, p50 ${summary.overheadPerStepMs.p50.toFixed(1)}, ` +
      `p95 ${summary.overheadPerStepMs.p95.toFixed(1)} (target < ${summary.targetMs})`
  );
  const m = summary.overheadPerPipelineStepMs;
  console.log(
    `per pipeline step (activity-measured, ${m.steps} steps, history writes counted as overhead): mean ${m.mean.toFixed(1)} ms, ` +
      `p50 ${m.p50.toFixed(1)}, p95 ${m.p95.toFixed(1)}; load average ${summary.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${summary.machine.cpus} cores`
  );
  console.log(
    `platform floor (no-op activity chain, same stack, same moment): ${summary.floorPerStepMs.withoutSearchAttributes.toFixed(1)} ms/step, ` +
      `${summary.floorPerStepMs.withSearchAttributeUpserts.toFixed(1)} ms/step with a search-attribute upsert per step`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

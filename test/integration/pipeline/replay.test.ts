// Replay: workflow code changes must stay deterministic for running executions. Replays the
// histories committed under histories/, recorded by earlier releases, against the current workflow
// bundle (a DeterminismViolationError fails the test), and checks that every patched() branch has
// a history through it and every long-running workflow type has one. Replaying what the same code
// just wrote would prove nothing, so new histories are recorded on purpose, when a release changes
// the workflow, by
// `MLOPS_HISTORY_TAG=<tag> npm run record:histories` (histories.record.ts); keep the old ones.
// `npm run build` replays the same histories against the prebuilt bundle the images ship.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { workflowBundle } from '../harness/env';
import { HISTORIES_DIR as HISTORIES, replayCommittedHistories } from './committed-histories';

const WORKFLOWS = path.resolve(__dirname, '../../../workflows');

interface HistoryJson {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
    markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads: { data: string }[] }> };
  }[];
}

function historyOf(file: string): HistoryJson {
  return JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as HistoryJson;
}

/** The patch ids a committed history took (its core_patch markers). */
function patchesIn(file: string): string[] {
  return historyOf(file)
    .events.map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map(
      (m) =>
        (
          JSON.parse(Buffer.from(m!.details!['patch-data'].payloads[0].data, 'base64').toString('utf8')) as {
            id: string;
          }
        ).id
    );
}

/** The workflows that run long (days to years) and so must replay across releases. */
const LONG_RUNNING = ['pipeline', 'rollout', 'featureMaterialization', 'monitorModel', 'modelLifecycle'];

describe('pipeline: replay', () => {
  it('replays the committed histories with the current workflow code', async () => {
    const files = await replayCommittedHistories(workflowBundle());
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it('has a committed history of every long-running workflow type', () => {
    const types = new Set(
      readdirSync(HISTORIES)
        .filter((f) => f.endsWith('.json'))
        .map((f) => historyOf(f).events[0].workflowExecutionStartedEventAttributes?.workflowType?.name)
    );
    expect(LONG_RUNNING.filter((t) => !types.has(t))).toEqual([]);
  });

  it('has a committed history through every patched() branch of the workflow code', () => {
    // A new patch without a history recorded through it would leave its replay unchecked.
    const source = readdirSync(WORKFLOWS, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(WORKFLOWS, f), 'utf8'))
      .join('\n');
    const patches = [...source.matchAll(/patched\('([^']+)'\)/g)].map((m) => m[1]);
    expect(patches.length).toBeGreaterThan(0);
    const recorded = new Set(
      readdirSync(HISTORIES)
        .filter((f) => f.endsWith('.json'))
        .flatMap(patchesIn)
    );
    expect(patches.filter((id) => !recorded.has(id))).toEqual([]);
  });
});

// The stack's supervisor and signal handling with real (tiny) child processes: a dead child
// comes back and is counted, a crash loop or policy never fails the stack with the child's
// last lines, kill() reaps a child that ignores SIGTERM, and signals that arrive together
// count as one while a later one escalates.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from '../../../tools/stack/child';
import { createStackMetrics } from '../../../tools/stack/metrics';
import { handleStopSignals } from '../../../tools/stack/signals';
import { type ServiceDef, Supervisor } from '../../../tools/stack/supervisor';

/** A node child running `code`, ready once it printed "up". */
function nodeService(name: string, code: string): ServiceDef {
  return {
    name,
    spawn: () => new Child({ name, command: process.execPath, args: ['-e', code], sink: () => undefined }),
    ready: (child) => child.waitForLine(/^up$/, 20_000),
  };
}

const fast = { backoff: { baseMs: 20, maxMs: 100 }, crashLoop: { restarts: 5, windowMs: 60_000 } };

describe('stack supervisor', () => {
  it('restarts a child that dies, logs and counts it', async () => {
    const flag = path.join(mkdtempSync(path.join(os.tmpdir(), 'supervisor-')), 'died-once');
    // Dies once (leaving a flag), then stays up.
    const code = `const fs = require('fs'); console.log('up');
      if (!fs.existsSync(${JSON.stringify(flag)})) { fs.writeFileSync(${JSON.stringify(flag)}, ''); setTimeout(() => process.exit(3), 50); }
      else setInterval(() => undefined, 1000);`;
    const lines: string[] = [];
    const metrics = createStackMetrics();
    const supervisor = new Supervisor({ policy: 'always', log: (l) => lines.push(l), metrics, ...fast });
    try {
      await supervisor.startAll([nodeService('flaky', code)]);
      for (let i = 0; i < 100 && !lines.some((l) => l.includes('flaky is back')); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(lines).toContain('flaky exited (code 3); restart 1 in 0.0 s');
      expect(lines).toContain('flaky is back (restart 1)');
      const text = await metrics.registry.metrics();
      expect(text).toContain('mlops_stack_child_restarts_total{child="flaky"} 1');
      expect(text).toContain('mlops_stack_child_exits_total{child="flaky",code="3",signal=""} 1');
      expect(text).toContain('mlops_stack_child_up{child="flaky"} 1');
    } finally {
      await supervisor.stop();
    }
  });

  it('stops the stack on a crash loop, naming the child and showing its last lines', async () => {
    const supervisor = new Supervisor({ policy: 'always', log: () => undefined, ...fast });
    try {
      await supervisor.startAll([
        nodeService('looper', "console.log('up'); console.error('boom: no config'); process.exit(2)"),
      ]);
      const failure = await supervisor.failed;
      expect(failure.child).toBe('looper');
      expect(failure.reason).toMatch(/looper exited \(code 2\) after 5 restarts within 60 s: a crash loop/);
      expect(failure.tail).toContain('boom: no config');
    } finally {
      await supervisor.stop();
    }
  });

  it('with policy never, fails at the first death', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ policy: 'never', log: (l) => lines.push(l), ...fast });
    try {
      await supervisor.startAll([nodeService('once', "console.log('up'); setTimeout(() => process.exit(4), 50)")]);
      const failure = await supervisor.failed;
      expect(failure.reason).toBe('once exited (code 4); MLOPS_STACK_RESTART=never');
      expect(lines.some((l) => l.includes('restart'))).toBe(false);
    } finally {
      await supervisor.stop();
    }
  });

  it('kill() reaps a child that ignores SIGTERM, and stop() then returns at once', async () => {
    const supervisor = new Supervisor({ policy: 'always', log: () => undefined, ...fast });
    await supervisor.startAll([
      nodeService(
        'stubborn',
        "process.on('SIGTERM', () => undefined); console.log('up'); setInterval(() => undefined, 1000)"
      ),
    ]);
    const stopping = supervisor.stop(); // would wait out the 10 s grace
    await supervisor.kill();
    await stopping;
  });
});

describe('stack stop signals', () => {
  function setup() {
    const source = new EventEmitter();
    let t = 0;
    const calls: string[] = [];
    let finishStop: () => void = () => undefined;
    const signals = handleStopSignals({
      log: () => undefined,
      stop: () => (calls.push('stop'), new Promise<void>((r) => (finishStop = r))),
      kill: async () => void calls.push('kill'),
      now: () => t,
      source,
    });
    return { source, calls, signals, advance: (ms: number) => (t += ms), finishStop: () => finishStop() };
  }

  it('counts signals within a second as one graceful stop', async () => {
    const s = setup();
    s.source.emit('SIGINT', 'SIGINT');
    s.advance(200);
    s.source.emit('SIGINT', 'SIGINT'); // npm forwarding the same Ctrl-C
    expect(s.calls).toEqual(['stop']);
    expect(s.signals.requested).toBe(true);
    s.finishStop();
    expect(await s.signals.done).toBe(0);
  });

  it('escalates to kill on a signal after the window', async () => {
    const s = setup();
    s.source.emit('SIGTERM', 'SIGTERM');
    s.advance(1_500);
    s.source.emit('SIGINT', 'SIGINT');
    s.source.emit('SIGINT', 'SIGINT');
    expect(s.calls).toEqual(['stop', 'kill']);
    expect(await s.signals.done).toBe(130);
  });
});

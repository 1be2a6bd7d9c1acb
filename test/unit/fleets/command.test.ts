// The command-trainer process contract's pure parts, and runCommand against real processes.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CommandTrainerError,
  epochOf,
  EXIT_BAD_INPUT,
  finalMetrics,
  metricsOf,
  parseJsonLine,
  runCommand,
} from '../../../lib/trainers/command';
import { frameToCsv, packFolder, unpackFolder } from '../../../lib/trainers/files';
import { DevicePool } from '../../../lib/hardware/device-pool';

const node = process.execPath;

describe('command trainer contract', () => {
  it('parses JSON lines and their metrics', () => {
    expect(parseJsonLine('not json')).toBeNull();
    expect(parseJsonLine('[1,2]')).toBeNull();
    expect(parseJsonLine(' {"epoch": 2, "loss": 0.5} ')).toEqual({ epoch: 2, loss: 0.5 });
    expect(metricsOf({ epoch: 2, loss: 0.5, name: 'x', 'a.b': 1 }, 9)).toEqual({
      step: 2,
      values: { loss: 0.5, a_b: 1 },
    });
    expect(metricsOf({ loss: 0.5 }, 9)).toEqual({ step: 9, values: { loss: 0.5 } });
    expect(metricsOf({ event: 'checkpoint', epoch: 1 }, 1)).toBeNull();
    expect(metricsOf({ epoch: 3 }, 1)).toBeNull();
  });

  it('reads the epoch and the final losses from metric lines, null where the process printed none', () => {
    expect(epochOf({ epoch: 2.7, loss: 1 })).toBe(2);
    expect(epochOf({ round: 4 })).toBe(4);
    expect(epochOf({ step: 100, loss: 1 })).toBeNull();
    expect(finalMetrics({ valMetric: 0.9, loss: 0.1 })).toEqual({ trainLoss: null, valLoss: null, valMetric: 0.9 });
    expect(finalMetrics({ trainLoss: 0.2, valLoss: 0.3, valMetric: 0.8 })).toEqual({
      trainLoss: 0.2,
      valLoss: 0.3,
      valMetric: 0.8,
    });
    expect(finalMetrics({ loss: 0.1 })).toBeNull();
  });

  it('writes frames as CSV with quoting and empty missing values', () => {
    const csv = frameToCsv({
      length: 2,
      columns: { a: Float64Array.from([1.5, NaN]), b: ['x,y', null] },
    });
    expect(csv).toBe('a,b\n1.5,"x,y"\n,\n');
  });

  it('packs and unpacks a checkpoint folder, refusing paths outside it', async () => {
    const src = mkdtempSync(path.join(os.tmpdir(), 'pack-'));
    mkdirSync(path.join(src, 'sub'));
    writeFileSync(path.join(src, 'a.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(path.join(src, 'sub', 'b.txt'), 'hello');
    const packed = (await packFolder(src))!;
    const dst = mkdtempSync(path.join(os.tmpdir(), 'unpack-'));
    expect(await unpackFolder(packed, dst)).toBe(2);
    expect(readFileSync(path.join(dst, 'sub', 'b.txt'), 'utf8')).toBe('hello');
    expect(await packFolder(path.join(src, 'missing'))).toBeNull();
    const header = Buffer.from(JSON.stringify({ files: [{ name: '../evil', bytes: 1 }] }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    await expect(unpackFolder(Buffer.concat([len, header, Buffer.from([0])]), dst)).rejects.toThrow(/outside/);
  });

  it('runs a process: JSON lines to onJson, exit 0 resolves', async () => {
    const seen: unknown[] = [];
    const out = await runCommand({
      command: [node, '-e', 'console.log(JSON.stringify({epoch:1,loss:2})); console.log("plain")'],
      env: process.env,
      onJson: (o) => void seen.push(o),
    });
    expect(out.code).toBe(0);
    expect(seen).toEqual([{ epoch: 1, loss: 2 }]);
  });

  it(`exit ${EXIT_BAD_INPUT} is bad input; other codes are retryable with the last 50 stderr lines`, async () => {
    const bad = await runCommand({ command: [node, '-e', `process.exit(${EXIT_BAD_INPUT})`], env: process.env }).catch(
      (e) => e
    );
    expect(bad).toBeInstanceOf(CommandTrainerError);
    expect(bad.badInput).toBe(true);
    const crash = await runCommand({
      command: [node, '-e', 'for (let i = 0; i < 80; i++) console.error("line " + i); process.exit(2)'],
      env: process.env,
    }).catch((e) => e);
    expect(crash.badInput).toBe(false);
    expect(crash.outcome.stderrTail).toHaveLength(50);
    expect(crash.message).toMatch(/line 79/);
    expect(crash.message).not.toMatch(/line 29\n/);
    const missing = await runCommand({ command: ['/no/such/trainer'], env: process.env }).catch((e) => e);
    expect(missing.badInput).toBe(true);
  });

  it('an abort kills the process group (SIGTERM, then SIGKILL)', async () => {
    const ac = new AbortController();
    let ready = false;
    const p = runCommand({
      command: [node, '-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      env: process.env,
      signal: ac.signal,
      killGraceMs: 200,
      onLog: (line) => (ready ||= line === 'ready'),
    }).catch((e) => e);
    while (!ready) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const err = await p;
    expect(err.outcome.killed).toBe('cancelled');
    expect(err.outcome.signal).toBe('SIGKILL');
  });
});

describe('device pool', () => {
  it('hands each job its own device and queues when all are taken', async () => {
    const pool = new DevicePool([0, 1]);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.visible, b.visible]).toEqual(['0', '1']);
    let got = '';
    const c = pool.acquire().then((l) => (got = l.visible));
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe('');
    b.release();
    await c;
    expect(got).toBe('1');
  });
});

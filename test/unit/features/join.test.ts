// The point-in-time join on small hand-written files: leakage, TTL expiry, late-arriving rows,
// window edges, label order kept, and the external sort spilling (runSize 2) giving the same result.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { viewSchema, entitySchema, type ViewInput } from '../../../lib/features/definition';
import { pointInTimeJoin, type JoinView } from '../../../lib/features/join';
import { parseTimestamp } from '../../../lib/features/timestamps';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pit-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const customer = entitySchema.parse({ name: 'customer', keys: ['customer_id'] });

async function view(def: Partial<ViewInput>, source: string): Promise<JoinView> {
  const file = path.join(dir, 'source.csv');
  await writeFile(file, source);
  const v = viewSchema.parse({
    name: 'stats',
    entity: 'customer',
    source: { path: 'source.csv' },
    timestamp: 'event_time',
    ttl: '30d',
    features: [{ name: 'amount' }],
    ...def,
  });
  return { view: v, entity: customer, file, ref: 'stats@v1' };
}

async function join(labels: string, views: JoinView[], runSize?: number) {
  const file = path.join(dir, 'labels.csv');
  await writeFile(file, labels);
  const out = path.join(dir, 'out.csv');
  const result = await pointInTimeJoin({
    labels: file,
    labelsName: 'labels.csv',
    timestamp: 'label_time',
    views,
    out,
    tmpDir: dir,
    runSize,
  });
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  return { result, header: lines[0], rows: lines.slice(1) };
}

describe('point-in-time join', () => {
  it('never joins a feature row timestamped one second after the label (leakage)', async () => {
    const v = await view({}, 'customer_id,event_time,amount\nc1,2026-01-01T00:00:00Z,1\nc1,2026-01-10T00:00:01Z,999\n');
    const { rows, header } = await join('customer_id,label_time,churned\nc1,2026-01-10T00:00:00Z,1\n', [v]);
    expect(header).toBe('churned,amount');
    expect(rows).toEqual(['1,1']);
  });

  it('joins a row at exactly the label time', async () => {
    const v = await view({}, 'customer_id,event_time,amount\nc1,2026-01-10T00:00:00Z,7\n');
    const { rows } = await join('customer_id,label_time,y\nc1,2026-01-10T00:00:00Z,0\n', [v]);
    expect(rows).toEqual(['0,7']);
  });

  it('gives nulls past the TTL and counts them', async () => {
    const v = await view({ ttl: '1d' }, 'customer_id,event_time,amount\nc1,2026-01-01T00:00:00Z,5\n');
    const { rows, result } = await join(
      'customer_id,label_time,y\nc1,2026-01-02T00:00:00Z,a\nc1,2026-01-02T00:00:01Z,b\nc2,2026-01-02T00:00:00Z,c\n',
      [v]
    );
    expect(rows).toEqual(['a,5', 'b,', 'c,']); // exactly the TTL still joins; one second more does not
    expect(result.views[0]).toEqual({ ref: 'stats@v1', matched: 1, expired: 1, missing: 1 });
  });

  it('uses late-arriving rows by their event time, not their position in the file', async () => {
    const v = await view(
      {},
      'customer_id,event_time,amount\nc1,2026-01-05T00:00:00Z,50\nc2,2026-01-01T00:00:00Z,1\nc1,2026-01-03T00:00:00Z,30\n'
    );
    const { rows } = await join(
      'customer_id,label_time,y\nc1,2026-01-04T00:00:00Z,x\nc1,2026-01-06T00:00:00Z,z\nc2,2026-01-02T00:00:00Z,w\n',
      [v]
    );
    expect(rows).toEqual(['x,30', 'z,50', 'w,1']);
  });

  it('aggregates windows over (t - window, t]: a row exactly one window old is out', async () => {
    const v = await view(
      {
        features: [
          { name: 'n_7d', window: '7d', agg: 'count' },
          { name: 'sum_7d', window: '7d', agg: 'sum', column: 'amount' },
          { name: 'max_7d', window: '7d', agg: 'max', column: 'amount' },
          { name: 'mean_7d', window: '7d', agg: 'mean', column: 'amount' },
        ],
      },
      'customer_id,event_time,amount\nc1,2026-01-01T00:00:00Z,10\nc1,2026-01-07T23:59:59Z,20\nc1,2026-01-08T00:00:00Z,30\n'
    );
    const { rows } = await join('customer_id,label_time,y\nc1,2026-01-07T23:59:59Z,a\nc1,2026-01-08T00:00:00Z,b\n', [
      v,
    ]);
    expect(rows).toEqual(['a,2,30,20,15', 'b,2,50,30,25']);
  });

  it('computes log, ratio and bucket transforms, and null for what they cannot', async () => {
    const v = await view(
      {
        features: [
          { name: 'log_amount', log: 'amount' },
          { name: 'refund_rate', ratio: ['refunds', 'orders'] },
          { name: 'band', bucket: 'amount', edges: [10, 100] },
        ],
      },
      'customer_id,event_time,amount,refunds,orders\nc1,2026-01-01,0,1,4\nc2,2026-01-01,100,1,0\nc3,2026-01-01,-1,,2\n'
    );
    const { rows } = await join('customer_id,label_time,y\nc1,2026-01-02,a\nc2,2026-01-02,b\nc3,2026-01-02,c\n', [v]);
    expect(rows).toEqual(['a,0,0.25,0', 'b,4.61512051684126,,2', 'c,,,0']);
  });

  it('gives the same answer when the sort spills to many runs', async () => {
    const source = ['customer_id,event_time,amount'];
    const labels = ['customer_id,label_time,y'];
    for (let i = 0; i < 60; i++) source.push(`c${i % 7},${1_700_000_000 + ((i * 37) % 50) * 3600},${i}`);
    for (let i = 0; i < 40; i++) labels.push(`c${i % 9},${1_700_000_000 + ((i * 13) % 60) * 3600},${i}`);
    const v = await view({}, source.join('\n') + '\n');
    const inMemory = await join(labels.join('\n') + '\n', [v]);
    const spilled = await join(labels.join('\n') + '\n', [v], 2);
    expect(spilled.rows).toEqual(inMemory.rows);
    expect(inMemory.rows).toHaveLength(40);
  });

  it('names the line and the fix for a timestamp it cannot read', async () => {
    const v = await view({}, 'customer_id,event_time,amount\nc1,yesterday,1\n');
    await expect(join('customer_id,label_time,y\nc1,2026-01-02,a\n', [v])).rejects.toThrow(
      /line 2: 'yesterday' in column 'event_time' is not a timestamp; write ISO-8601/
    );
  });
});

describe('timestamps', () => {
  it.each([
    ['2026-01-31', Date.UTC(2026, 0, 31)],
    ['2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31 12:00:00', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31T12:00:00+02:00', Date.UTC(2026, 0, 31, 10)],
    ['1769860800', 1769860800_000],
  ])('reads %s', (text, ms) => expect(parseTimestamp(text)).toBe(ms));
  it.each(['yesterday', '31/01/2026', '2026-13-45', ''])('refuses %s', (text) =>
    expect(parseTimestamp(text)).toBeUndefined()
  );
});

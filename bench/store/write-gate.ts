// What the FerretDB write gate (tools/ferretdb/write_gate.go) costs, and what it buys: the same
// workloads against a gated and an ungated launcher, interleaved round by round so machine noise
// hits both. Ratios are gated/ungated throughput; "lost" counts concurrent $inc the server dropped.
//   npx tsx bench/store/write-gate.ts [--ops 2000] [--concurrency 20] [--rounds 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection } from 'mongodb';
import { loadConfig } from '../../lib/config';
import { provisionTools } from '../../tools/provision';
import { freePort } from '../../tools/stack/ports';
import { startMongoServer } from '../../tools/stack/services';
import { arg } from '../stack';

interface Doc {
  _id: string;
  n: number;
  payload?: string;
}

type Workload = (col: Collection<Doc>, i: number, round: number) => Promise<unknown>;

const WORKLOADS: Record<string, Workload> = {
  insert: (col, i, round) => col.insertOne({ _id: `r${round}-${i}`, n: 0, payload: 'x'.repeat(200) }),
  'update (distinct docs)': (col, i, round) => col.updateOne({ _id: `r${round}-${i}` }, { $set: { n: i } }),
  'find by _id': (col, i, round) => col.findOne({ _id: `r${round}-${i}` }),
  '$inc one hot doc': (col, _i, round) => col.updateOne({ _id: `hot-${round}` }, { $inc: { n: 1 } }),
};

async function drive(ops: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    })
  );
  return ops / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const ops = arg('ops', 2000);
  const concurrency = arg('concurrency', 20);
  const rounds = arg('rounds', 3);
  const tools = await provisionTools(loadConfig(), () => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-gate-'));
  const variants = [
    { name: 'gated', args: [] as string[] },
    { name: 'ungated', args: ['-write-gate=false'] },
  ];
  const servers = await Promise.all(
    variants.map(async (v) => {
      const port = await freePort();
      const child = await startMongoServer({
        bin: tools.ferretdb,
        host: '127.0.0.1',
        port,
        dataDir: path.join(dir, v.name),
        extraArgs: v.args,
      });
      const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/`, { maxPoolSize: concurrency });
      return { ...v, child, client, col: client.db('bench').collection<Doc>('gate') };
    })
  );
  const samples: Record<string, Record<string, number[]>> = {};
  const lost: Record<string, number[]> = {};
  try {
    for (let round = 0; round < rounds; round++) {
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        await s.col.insertOne({ _id: `hot-${round}`, n: 0 });
        for (const [name, work] of Object.entries(WORKLOADS)) {
          const rate = await drive(ops, concurrency, (i) => work(s.col, i, round));
          ((samples[name] ??= {})[s.name] ??= []).push(rate);
        }
        const hot = await s.col.findOne({ _id: `hot-${round}` });
        (lost[s.name] ??= []).push(ops - (hot?.n ?? 0));
      }
    }
  } finally {
    for (const s of servers) {
      await s.client.close();
      await s.child.stop(5_000);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = Object.entries(samples).map(([workload, by]) => ({
    workload,
    gatedOpsPerS: Math.round(median(by.gated)),
    ungatedOpsPerS: Math.round(median(by.ungated)),
    ratio: Number((median(by.gated) / median(by.ungated)).toFixed(3)),
  }));
  const result = {
    ops,
    concurrency,
    rounds,
    load: os.loadavg().map((l) => Number(l.toFixed(1))),
    rows,
    lostIncrements: lost,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.resolve(__dirname, '../results/store-write-gate.json');
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`\n${ops} ops per workload, ${concurrency} concurrent clients, median of ${rounds} rounds:`);
  console.log('workload                 gated ops/s  ungated ops/s  gated/ungated');
  for (const r of rows) {
    console.log(
      `${r.workload.padEnd(24)} ${String(r.gatedOpsPerS).padStart(11)}  ${String(r.ungatedOpsPerS).padStart(13)}  ${r.ratio.toFixed(3).padStart(13)}`
    );
  }
  console.log(`$inc lost of ${ops} per round: gated ${lost.gated.join(', ')}; ungated ${lost.ungated.join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

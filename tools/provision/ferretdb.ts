// Builds tools/ferretdb (our launcher embedding FerretDB's SQLite handler) into the tools
// folder. The build is cached under a stamp of its sources, so a changed pin rebuilds.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireGo } from './go-toolchain';
import { Log, ProvisionError, runWithProgress } from './run-command';
import { FERRETDB_MODULE_VERSION } from './versions';

const SOURCE_DIR = path.resolve(__dirname, '..', 'ferretdb');

function sourceStamp(): string {
  const hash = createHash('sha256');
  const sources = readdirSync(SOURCE_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  for (const file of sources) hash.update(file).update(readFileSync(path.join(SOURCE_DIR, file)));
  return hash.digest('hex');
}

export async function ensureFerretdb(toolsDir: string, log: Log): Promise<string> {
  const gomod = readFileSync(path.join(SOURCE_DIR, 'go.mod'), 'utf8');
  if (!gomod.includes(`github.com/FerretDB/FerretDB ${FERRETDB_MODULE_VERSION}`)) {
    throw new ProvisionError(
      `tools/ferretdb/go.mod does not pin FerretDB ${FERRETDB_MODULE_VERSION} (tools/provision/versions.ts): make them agree.`
    );
  }
  const binDir = path.join(toolsDir, 'bin');
  const bin = path.join(binDir, 'ferretdb-launcher');
  const stampFile = `${bin}.stamp`;
  const stamp = sourceStamp();
  if (existsSync(bin) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return bin;

  requireGo('Building the MongoDB-wire server (FerretDB)');
  mkdirSync(binDir, { recursive: true });
  log(`building FerretDB ${FERRETDB_MODULE_VERSION} launcher with go build (first time: 3-6 minutes)`);
  const tmp = `${bin}.tmp`;
  await runWithProgress('go build tools/ferretdb', 'go', ['build', '-trimpath', '-o', tmp, '.'], {
    cwd: SOURCE_DIR,
    log,
    // The pinned go.mod says go 1.22; never fetch another toolchain for it.
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  renameSync(tmp, bin);
  writeFileSync(stampFile, stamp);
  return bin;
}

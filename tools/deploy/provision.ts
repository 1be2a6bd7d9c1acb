// The chart checks' tools, cached in the tools folder like the embedded stack's: Helm built from
// its Go module (no binary downloads; minutes the first time on a 2-core machine) and
// kubernetes-validate (the Kubernetes JSON schemas) in a virtual environment from PyPI. Each has
// a stamp of its pinned version, so a changed pin rebuilds and an unchanged one costs nothing.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireGo, requirePip } from '../provision/go-toolchain';
import { Log, runWithProgress } from '../provision/run-command';
import { HELM, KUBERNETES_VALIDATE } from '../provision/versions';

export interface DeployTools {
  helm: string;
  kubernetesValidate: string;
}

const fresh = (bin: string, stamp: string) =>
  existsSync(bin) && existsSync(`${bin}.stamp`) && readFileSync(`${bin}.stamp`, 'utf8') === stamp;

async function ensureHelm(toolsDir: string, log: Log): Promise<string> {
  const binDir = path.join(toolsDir, 'bin');
  const bin = path.join(binDir, 'helm');
  const stamp = `${HELM.goModule}@${HELM.version}`;
  if (fresh(bin, stamp)) return bin;
  requireGo('Building Helm for the chart checks');
  const gobin = path.join(binDir, '.helm-build');
  rmSync(gobin, { recursive: true, force: true });
  mkdirSync(gobin, { recursive: true });
  log(`building Helm ${HELM.version} with go install (first time: 7 to 14 minutes on 2 cores)`);
  await runWithProgress(
    `go install ${stamp}`,
    'go',
    ['install', '-trimpath', `-ldflags=-X helm.sh/helm/v3/internal/version.version=${HELM.version}`, stamp],
    { log, env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' } }
  );
  renameSync(path.join(gobin, 'helm'), bin);
  rmSync(gobin, { recursive: true, force: true });
  writeFileSync(`${bin}.stamp`, stamp);
  return bin;
}

async function ensureKubernetesValidate(toolsDir: string, log: Log): Promise<string> {
  const venv = path.join(toolsDir, 'kubernetes-validate');
  const bin = path.join(venv, 'bin', 'kubernetes-validate');
  const spec = `${KUBERNETES_VALIDATE.pypiPackage}==${KUBERNETES_VALIDATE.version}`;
  if (fresh(bin, spec)) return bin;
  requirePip('Installing kubernetes-validate for the chart checks');
  rmSync(venv, { recursive: true, force: true });
  await runWithProgress('python3 -m venv', 'python3', ['-m', 'venv', venv], { log });
  await runWithProgress(`pip install ${spec}`, path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '-q', spec], {
    log,
  });
  writeFileSync(`${bin}.stamp`, spec);
  return bin;
}

export async function provisionDeployTools(toolsDir: string, log: Log): Promise<DeployTools> {
  mkdirSync(path.join(toolsDir, 'bin'), { recursive: true });
  const [helm, kubernetesValidate] = await Promise.all([
    ensureHelm(toolsDir, log),
    ensureKubernetesValidate(toolsDir, log),
  ]);
  return { helm, kubernetesValidate };
}

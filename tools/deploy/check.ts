// `npm run check:deploy` (a CI phase): the production artefacts checked offline.
//  - the Helm chart: `helm lint --strict` and `helm template` with the default values and with
//    ci/multi-region-values.yaml; the render validated against the Kubernetes schemas
//    (kubernetes-validate --strict); then the policies of tools/deploy/policy.ts;
//  - docker-compose.yml through `docker compose config -q` where the compose plugin exists.
// Helm and kubernetes-validate are provisioned into the tools folder (tools/deploy/provision.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../lib/config';
import { PACKAGE_ROOT } from '../../lib/package-root';
import { KUBERNETES_VERSION } from '../provision/versions';
import { envProblems, scalerProblems, securityProblems, type Manifest } from './policy';
import { provisionDeployTools } from './provision';

const CHART = path.join(PACKAGE_ROOT, 'deploy', 'helm', 'mlops');
const VALUE_SETS = [
  { name: 'default values', files: [] as string[] },
  { name: 'multi-region', files: [path.join(CHART, 'ci', 'multi-region-values.yaml')] },
];

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: env ?? process.env });
  if (res.status !== 0)
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${res.status}):\n${res.stdout}${res.stderr}`);
  return res.stdout;
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[deploy] ${line}`);
  const tools = await provisionDeployTools(loadConfig().toolsDir, log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlops-chart-'));
  const problems: string[] = [];
  try {
    for (const set of VALUE_SETS) {
      const values = set.files.flatMap((f) => ['-f', f]);
      run(tools.helm, ['lint', '--strict', '--kube-version', KUBERNETES_VERSION, CHART, ...values]);
      const rendered = run(tools.helm, ['template', 'mlops', CHART, '--kube-version', KUBERNETES_VERSION, ...values]);
      const file = path.join(dir, `${set.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, rendered);
      // CRDs (KEDA's) have no schema there; scalerProblems checks what matters in them.
      run(tools.kubernetesValidate, ['--strict', '--quiet', '--no-warn', '-k', KUBERNETES_VERSION, file]);
      const manifests = parseAllDocuments(rendered)
        .map((d) => d.toJS() as Manifest | null)
        .filter((m): m is Manifest => Boolean(m));
      const found = [...securityProblems(manifests), ...envProblems(manifests), ...scalerProblems(manifests)];
      problems.push(...found.map((p) => `${set.name}: ${p}`));
      const kinds = manifests.reduce<Record<string, number>>((n, m) => ({ ...n, [m.kind]: (n[m.kind] ?? 0) + 1 }), {});
      log(
        `${set.name}: lint ok, ${manifests.length} manifests valid for Kubernetes ${KUBERNETES_VERSION} ${JSON.stringify(kinds)}`
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (spawnSync('docker', ['compose', 'version']).status === 0) {
    run('docker', ['compose', '-f', path.join(PACKAGE_ROOT, 'docker-compose.yml'), 'config', '-q'], {
      ...process.env,
      MLOPS_ADMIN_TOKEN: 'x'.repeat(32),
    });
    log('docker compose config: ok');
  } else log('docker compose config: skipped (no compose plugin on this machine)');
  if (problems.length) throw new Error(`policy problems in the rendered chart:\n  ${problems.join('\n  ')}`);
  log(
    'policies: no root, no privilege escalation, read-only root fs, limits everywhere, env vars known, scalers match fleets'
  );
}

main().catch((err) => {
  console.error(`[deploy] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

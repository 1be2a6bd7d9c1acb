// The chart's offline checks (tools/deploy/policy.ts) catch what they promise to, and the chart's
// templates set only variables lib/config.ts reads. `npm run check:deploy` runs the same policies
// on the real `helm template` output (CI); these run everywhere, without Helm.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  envProblems,
  scalerProblems,
  securityProblems,
  unknownVariable,
  type Manifest,
} from '../../../tools/deploy/policy';

const TEMPLATES = path.resolve(__dirname, '../../../deploy/helm/mlops/templates');

const safe = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true };
const limits = { limits: { cpu: '1', memory: '1Gi' } };
function worker(name: string, env: Array<{ name: string; value?: string }>, container: object = {}): Manifest {
  return {
    kind: 'Deployment',
    metadata: { name },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'worker',
              command: ['node', 'dist/workers/gpu.js'],
              env,
              securityContext: safe,
              resources: limits,
              ...container,
            },
          ],
        },
      },
    },
  };
}
const scaledObject = (target: string, taskQueue: string): Manifest => ({
  kind: 'ScaledObject',
  metadata: { name: target },
  spec: {
    scaleTargetRef: { name: target },
    triggers: [{ type: 'temporal', metadata: { endpoint: 't:7233', taskQueue } }],
  },
});

describe('chart policies', () => {
  const env = [
    { name: 'MLOPS_GPU_QUEUE', value: 'mlops-gpu' },
    { name: 'MLOPS_WORKER_REGION', value: 'eu' },
  ];
  it('pass a locked-down, limited container', () => {
    expect(securityProblems([worker('gpu', env)])).toEqual([]);
    expect(envProblems([worker('gpu', env)])).toEqual([]);
  });

  it('refuse root, privilege escalation, a writable root and missing limits', () => {
    const root = worker('gpu', env, { securityContext: { ...safe, runAsNonRoot: false, runAsUser: 0 } });
    expect(securityProblems([root])).toEqual([
      'Deployment/gpu container worker: runAsNonRoot is not true',
      'Deployment/gpu container worker: runs as uid 0',
    ]);
    const loose = worker('gpu', env, { securityContext: { runAsNonRoot: true }, resources: { limits: { cpu: '1' } } });
    expect(securityProblems([loose])).toEqual([
      'Deployment/gpu container worker: allowPrivilegeEscalation is not false',
      'Deployment/gpu container worker: readOnlyRootFilesystem is not true',
      'Deployment/gpu container worker: no memory limit',
    ]);
  });

  it('refuse a variable lib/config.ts does not read, and a _FILE form of a non-secret', () => {
    expect(unknownVariable('MLOPS_ADMIN_TOKEN_FILE')).toBeNull();
    expect(unknownVariable('NODE_OPTIONS')).toBeNull();
    expect(envProblems([worker('gpu', [{ name: 'MLOPS_GPU_QUEUES' }, { name: 'MONGODB_DB_FILE' }])])).toEqual([
      'Deployment/gpu container worker: MLOPS_GPU_QUEUES is not in lib/config.ts',
      'Deployment/gpu container worker: MONGODB_DB_FILE: MONGODB_DB is not a secret, so it has no _FILE form',
    ]);
  });

  it('refuse a ScaledObject on another queue than its Deployment polls, or on no Deployment', () => {
    expect(scalerProblems([worker('gpu-eu', env), scaledObject('gpu-eu', 'mlops-gpu@eu')])).toEqual([]);
    expect(scalerProblems([worker('gpu-eu', env), scaledObject('gpu-eu', 'mlops-gpu')])).toEqual([
      "ScaledObject/gpu-eu: scales on 'mlops-gpu' but its Deployment polls 'mlops-gpu@eu'",
    ]);
    expect(scalerProblems([scaledObject('gpu-us', 'mlops-gpu@us')])).toEqual([
      'ScaledObject/gpu-us: scaleTargetRef gpu-us is no rendered Deployment',
    ]);
  });
});

describe('chart templates', () => {
  it('set only environment variables that lib/config.ts reads', () => {
    const names = readdirSync(TEMPLATES).flatMap((f) =>
      [...readFileSync(path.join(TEMPLATES, f), 'utf8').matchAll(/- name: ([A-Z][A-Z0-9_]+)\s*$/gm)].map((m) => m[1])
    );
    expect(names).toEqual(expect.arrayContaining(['MLOPS_WORKER_REGION', 'MONGODB_URI_FILE', 'MLOPS_INFERENCE_PORT']));
    expect(names.flatMap((n) => unknownVariable(n) ?? [])).toEqual([]);
  });
});

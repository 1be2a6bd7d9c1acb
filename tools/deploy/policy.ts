// What the rendered chart must satisfy beyond the Kubernetes schemas, as pure functions over the
// parsed manifests (unit-tested with broken manifests; run on the real render by check.ts):
//  - no container may run as root, escalate privileges, write its root file system, or lack
//    CPU and memory limits;
//  - every environment variable the chart sets is one lib/config.ts reads (or a `_FILE` form of
//    one of its secrets), so a renamed variable cannot silently stop configuring anything;
//  - every KEDA ScaledObject scales a rendered Deployment on the task queue that Deployment polls.
import { CONFIG_VARS } from '../../lib/config';
import { regionQueue } from '../../lib/workflow-safe/queues';

/** Read by Node itself, not by lib/config.ts. */
const NODE_VARS = new Set(['NODE_ENV', 'NODE_OPTIONS']);

interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  name: string;
  env?: EnvVar[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
  };
  resources?: { limits?: Record<string, unknown> };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  initContainers?: Container[];
}
export interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

function podSpec(m: Manifest): PodSpec | undefined {
  const spec = m.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } };
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

function containersOf(m: Manifest): Array<{ where: string; pod: PodSpec; c: Container }> {
  const pod = podSpec(m);
  if (!pod) return [];
  return [...(pod.initContainers ?? []), ...pod.containers].map((c) => ({
    where: `${m.kind}/${m.metadata.name} container ${c.name}`,
    pod,
    c,
  }));
}

export function securityProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const { where, pod, c } of manifests.flatMap(containersOf)) {
    const sc = { ...pod.securityContext, ...c.securityContext };
    if (sc.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) problems.push(`${where}: runs as uid 0`);
    if (c.securityContext?.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if (c.securityContext?.readOnlyRootFilesystem !== true)
      problems.push(`${where}: readOnlyRootFilesystem is not true`);
    for (const r of ['cpu', 'memory'])
      if (c.resources?.limits?.[r] === undefined) problems.push(`${where}: no ${r} limit`);
  }
  return problems;
}

/** Why `name` configures nothing, or null when lib/config.ts (or Node) reads it. */
export function unknownVariable(name: string): string | null {
  if (NODE_VARS.has(name) || name in CONFIG_VARS) return null;
  const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : '';
  const spec = (CONFIG_VARS as Record<string, { secret?: boolean }>)[base];
  if (spec?.secret) return null;
  return spec ? `${name}: ${base} is not a secret, so it has no _FILE form` : `${name} is not in lib/config.ts`;
}

export function envProblems(manifests: Manifest[]): string[] {
  return manifests.flatMap(containersOf).flatMap(({ where, c }) =>
    (c.env ?? []).flatMap((e) => {
      const why = unknownVariable(e.name);
      return why ? [`${where}: ${why}`] : [];
    })
  );
}

interface ScaledObjectSpec {
  scaleTargetRef?: { name?: string };
  triggers?: Array<{ type: string; metadata?: Record<string, string>; authenticationRef?: { name: string } }>;
}

/** The task queue a worker Deployment polls: its fleet's queue variable, routed to its region. */
function polledQueue(m: Manifest): string | undefined {
  const c = podSpec(m)?.containers[0];
  const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
  const kind = /dist\/workers\/(control|cpu|gpu)\.js/.exec(JSON.stringify((c as { command?: unknown })?.command))?.[1];
  if (!kind) return undefined;
  const queue = env[`MLOPS_${kind.toUpperCase()}_QUEUE`];
  return queue ? regionQueue(queue, env.MLOPS_WORKER_REGION) : undefined;
}

export function scalerProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const deployments = new Map(manifests.filter((m) => m.kind === 'Deployment').map((m) => [m.metadata.name, m]));
  const auths = new Set(manifests.filter((m) => m.kind === 'TriggerAuthentication').map((m) => m.metadata.name));
  for (const so of manifests.filter((m) => m.kind === 'ScaledObject')) {
    const spec = so.spec as ScaledObjectSpec;
    const where = `ScaledObject/${so.metadata.name}`;
    const target = deployments.get(spec.scaleTargetRef?.name ?? '');
    if (!target) {
      problems.push(`${where}: scaleTargetRef ${spec.scaleTargetRef?.name} is no rendered Deployment`);
      continue;
    }
    const trigger = spec.triggers?.find((t) => t.type === 'temporal');
    if (!trigger?.metadata?.endpoint) problems.push(`${where}: no temporal trigger with an endpoint`);
    const polled = polledQueue(target);
    if (trigger && trigger.metadata?.taskQueue !== polled)
      problems.push(`${where}: scales on '${trigger.metadata?.taskQueue}' but its Deployment polls '${polled}'`);
    if (trigger?.authenticationRef && !auths.has(trigger.authenticationRef.name))
      problems.push(`${where}: authenticationRef ${trigger.authenticationRef.name} is not rendered`);
  }
  return problems;
}

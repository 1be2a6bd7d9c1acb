// The one logger of every process (API, inference server, workers): JSON lines through pino.
// Secrets are removed twice: by key (pino's redaction paths, for fields such as `authorization`)
// and by value (every configured secret and anything shaped like a bearer token is scrubbed from
// the finished line, so a secret pasted into a message or an error text never reaches the log).
// Request logs never include headers or bodies.
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** Which process writes (`cpu-worker`, `inference`); absent for the API. */
  name?: string;
  level?: LogLevel;
  /** Values scrubbed from every line (secret config values, the admin token). */
  secrets?: string[];
  /** Where finished lines go (without their newline); stdout by default. */
  write?: (line: string) => void;
}

const TOKEN_SHAPE = /mlops_[A-Za-z0-9_-]{20,}/g;
const REDACT = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 6);
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const scrub = (text: string): string => {
    let out = text.replace(TOKEN_SHAPE, 'mlops_<redacted>');
    for (const s of secrets) out = out.split(s).join('<redacted>');
    return out;
  };
  const p = pino(
    {
      level: opts.level ?? 'info',
      base: opts.name ? { name: opts.name } : null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '<redacted>' },
    },
    { write: (line: string) => write(scrub(line.endsWith('\n') ? line.slice(0, -1) : line)) }
  );
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

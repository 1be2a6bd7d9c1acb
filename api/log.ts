// A small JSON-lines logger for the API. Secrets (the values of secret config variables
// and anything shaped like a bearer token) are scrubbed from every line, and request logs
// never include headers or bodies.
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const TOKEN_SHAPE = /mlops_[A-Za-z0-9_-]{20,}/g;

export function createLogger(opts: { level?: LogLevel; secrets?: string[]; write?: (line: string) => void }): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 6);
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const scrub = (text: string): string => {
    let out = text.replace(TOKEN_SHAPE, 'mlops_<redacted>');
    for (const s of secrets) out = out.split(s).join('<redacted>');
    return out;
  };
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg });
    }
    write(scrub(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

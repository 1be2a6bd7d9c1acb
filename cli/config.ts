// Where the CLI finds the API and its token, first match wins:
//   URL:   --url, MLOPS_API_URL, the config file's "url", http://127.0.0.1:8080
//   token: --token-file, MLOPS_TOKEN, MLOPS_TOKEN_FILE, the config file's "token" or
//          "tokenFile", then <MLOPS_DATA_DIR or ./data>/admin-token (the embedded stack's)
// The config file is $MLOPS_CONFIG or ~/.config/mlops/config.json. Tokens are never taken
// from a command-line value (it would show in `ps` and shell history).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export class UsageError extends Error {}

const fileSchema = z
  .object({
    url: z.string().url().optional(),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
  })
  .strict();

export interface CliConfig {
  url: string;
  token?: string;
  /** Where the token came from (shown by `mlops config`), never the token. */
  tokenSource?: string;
  configFile?: string;
}

function readTrimmed(file: string): string | undefined {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  return (
    env.MLOPS_CONFIG || path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'mlops', 'config.json')
  );
}

export function resolveConfig(env: NodeJS.ProcessEnv, flags: { url?: string; tokenFile?: string }): CliConfig {
  const file = configFilePath(env);
  let fromFile: z.infer<typeof fileSchema> = {};
  const text = readTrimmed(file);
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`${file} is not valid JSON; expected {"url": "...", "token": "..."}`);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      throw new UsageError(
        `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`
      );
    }
    fromFile = parsed.data;
  }
  const url = (flags.url || env.MLOPS_API_URL || fromFile.url || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError(`API URL ${JSON.stringify(url)} is not an http(s) URL`);

  const candidates: [string | undefined, string][] = [
    [flags.tokenFile && readTrimmed(flags.tokenFile), `--token-file ${flags.tokenFile}`],
    [env.MLOPS_TOKEN, 'MLOPS_TOKEN'],
    [env.MLOPS_TOKEN_FILE && readTrimmed(env.MLOPS_TOKEN_FILE), `MLOPS_TOKEN_FILE ${env.MLOPS_TOKEN_FILE}`],
    [fromFile.token, file],
    [fromFile.tokenFile && readTrimmed(fromFile.tokenFile), `${fromFile.tokenFile} (tokenFile in ${file})`],
  ];
  if (flags.tokenFile && !candidates[0][0])
    throw new UsageError(`--token-file ${flags.tokenFile}: cannot read a token`);
  let found = candidates.find(([t]) => t);
  if (!found) {
    const adminFile = path.join(path.resolve(env.MLOPS_DATA_DIR || 'data'), 'admin-token');
    const t = readTrimmed(adminFile);
    if (t) found = [t, adminFile];
  }
  return { url, token: found?.[0], tokenSource: found?.[1], configFile: text !== undefined ? file : undefined };
}

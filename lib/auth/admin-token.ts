// The admin token bootstrap. MLOPS_ADMIN_TOKEN (or MLOPS_ADMIN_TOKEN_FILE, read by
// loadConfig) wins; otherwise a token is generated once into <dataDir>/admin-token with
// mode 0600 and reused on later starts. The token itself is never logged: callers print
// the path only.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { generateToken } from './tokens';

export interface AdminToken {
  token: string;
  /** The file holding it, or undefined when it came from the environment. */
  path?: string;
  source: 'env' | 'file' | 'generated';
}

export const ADMIN_TOKEN_FILE = 'admin-token';

export async function ensureAdminToken(
  cfg: Pick<Config, 'MLOPS_ADMIN_TOKEN' | 'dataDir'> & Partial<Pick<Config, 'MLOPS_ENV'>>
): Promise<AdminToken> {
  if (cfg.MLOPS_ADMIN_TOKEN) return { token: cfg.MLOPS_ADMIN_TOKEN, source: 'env' };
  if (cfg.MLOPS_ENV === 'production') {
    throw new Error('MLOPS_ADMIN_TOKEN (or MLOPS_ADMIN_TOKEN_FILE) is required when MLOPS_ENV=production');
  }
  const file = path.join(cfg.dataDir, ADMIN_TOKEN_FILE);
  const existing = await readToken(file);
  if (existing) return { token: existing, path: file, source: 'file' };

  await fs.mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  const token = generateToken();
  try {
    // 'wx': two processes starting at once cannot both write; the loser reads the winner's.
    await fs.writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await readToken(file);
    if (!raced) throw new Error(`${file} exists but holds no token; delete it to generate a new one`);
    return { token: raced, path: file, source: 'file' };
  }
  await fs.chmod(file, 0o600); // the umask cannot widen it, but be explicit
  return { token, path: file, source: 'generated' };
}

async function readToken(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(file, 0o600);
    const text = (await fs.readFile(file, 'utf8')).trim();
    return text.length >= 24 ? text : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

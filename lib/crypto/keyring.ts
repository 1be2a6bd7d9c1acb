// Master keys for payload and artifact encryption. A keyring holds every key that may
// still be needed to decrypt; the first one encrypts new data. Rotation: prepend a new
// key and keep the old ones, so old payloads stay readable.
// Format of MLOPS_ENCRYPTION_KEYS (or the file it names with _FILE): comma-separated
// `keyId:base64(32 bytes)`, newest first.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface Keyring {
  activeId: string;
  keys: Map<string, Buffer>;
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

export function parseKeyring(text: string, source: string): Keyring {
  const keys = new Map<string, Buffer>();
  let activeId: string | undefined;
  for (const entry of text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter(Boolean)) {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep);
    const key = Buffer.from(entry.slice(sep + 1), 'base64');
    if (sep < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(id) || key.length !== 32) {
      // The key material is never echoed.
      throw new KeyringError(
        `${source}: each entry must be keyId:base64 of 32 random bytes (e.g. k1:$(openssl rand -base64 32))`
      );
    }
    if (keys.has(id)) throw new KeyringError(`${source}: key id ${id} appears twice`);
    keys.set(id, key);
    activeId ??= id;
  }
  if (!activeId) throw new KeyringError(`${source} holds no key`);
  return { activeId, keys };
}

export function formatKeyring(keyring: Keyring): string {
  return [...keyring.keys].map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');
}

export const GENERATED_KEYS_FILE = 'encryption-keys';

/**
 * The configured keyring, or for the embedded stack one generated once into the data dir
 * (mode 0600). `generated` tells the caller to say so.
 */
export async function loadKeyring(opts: {
  configured?: string;
  dataDir: string;
  production: boolean;
}): Promise<{ keyring: Keyring; generatedAt?: string }> {
  if (opts.configured) return { keyring: parseKeyring(opts.configured, 'MLOPS_ENCRYPTION_KEYS') };
  if (opts.production) {
    throw new KeyringError(
      'MLOPS_ENCRYPTION_KEYS (or MLOPS_ENCRYPTION_KEYS_FILE) is required when MLOPS_ENV=production'
    );
  }
  const file = path.join(opts.dataDir, GENERATED_KEYS_FILE);
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const fresh = formatKeyring({ activeId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
  try {
    // 'wx': when several processes start at once, one writes and the others read it.
    await fs.writeFile(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
    return { keyring: parseKeyring(fresh, file), generatedAt: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { keyring: parseKeyring(await fs.readFile(file, 'utf8'), file) };
}

export interface KeyringConfig {
  MLOPS_ENCRYPTION_KEYS?: string;
  MLOPS_ENV: 'development' | 'production';
  dataDir: string;
}

const loaded = new Map<string, Promise<Keyring>>();

/** The process's keyring for a config, loaded (or generated) once. */
export function keyringFor(cfg: KeyringConfig): Promise<Keyring> {
  const cacheKey = `${cfg.dataDir}\0${cfg.MLOPS_ENCRYPTION_KEYS ?? ''}\0${cfg.MLOPS_ENV}`;
  let keyring = loaded.get(cacheKey);
  if (!keyring) {
    keyring = loadKeyring({
      configured: cfg.MLOPS_ENCRYPTION_KEYS,
      dataDir: cfg.dataDir,
      production: cfg.MLOPS_ENV === 'production',
    }).then((r) => r.keyring);
    keyring.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, keyring);
  }
  return keyring;
}

// Who sent a git webhook delivery, decided before its payload is trusted: GitHub signs the raw
// body with HMAC-SHA256 (X-Hub-Signature-256: sha256=<hex>), GitLab sends the secret itself
// (X-Gitlab-Token). Secrets are per repository (MLOPS_GIT_HOOK_SECRETS); the one that verifies
// names the repository, and every comparison takes constant time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HookSecrets = Map<string, string>;

/** `owner/repo=secret,owner2/repo2=secret2` (validated by lib/config.ts) -> repository -> secret. */
export function parseHookSecrets(value: string | undefined): HookSecrets {
  const out: HookSecrets = new Map();
  for (const pair of (value ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

function sameDigest(a: string | Buffer, b: string | Buffer): boolean {
  // Hashing both sides first gives equal lengths, so timingSafeEqual never throws or leaks length.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The repository whose secret signed `raw` (GitHub), or null. Every secret is tried. */
export function verifyGithubSignature(raw: Buffer, header: string | undefined, secrets: HookSecrets): string | null {
  if (!header || !header.startsWith('sha256=')) return null;
  let found: string | null = null;
  for (const [repo, secret] of secrets) {
    const expected = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
    if (sameDigest(expected, header) && found === null) found = repo;
  }
  return found;
}

/** The repository whose secret equals the X-Gitlab-Token header, or null. */
export function verifyGitlabToken(header: string | undefined, secrets: HookSecrets): string | null {
  if (!header) return null;
  let found: string | null = null;
  for (const [repo, secret] of secrets) if (sameDigest(secret, header) && found === null) found = repo;
  return found;
}

export interface PushEvent {
  repository: string;
  branch: string;
  sha: string;
}

/** The push a GitHub or GitLab payload describes, or null (not a branch push, or a deleted branch). */
export function pushOf(payload: unknown): PushEvent | null {
  const p = payload as {
    ref?: unknown;
    after?: unknown;
    checkout_sha?: unknown;
    deleted?: unknown;
    repository?: { full_name?: unknown };
    project?: { path_with_namespace?: unknown };
  };
  if (!p || typeof p !== 'object' || typeof p.ref !== 'string' || !p.ref.startsWith('refs/heads/')) return null;
  const sha = typeof p.checkout_sha === 'string' ? p.checkout_sha : p.after;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha) || /^0+$/.test(sha) || p.deleted === true) return null;
  const repository = p.repository?.full_name ?? p.project?.path_with_namespace;
  if (typeof repository !== 'string') return null;
  return { repository, branch: p.ref.slice('refs/heads/'.length), sha };
}

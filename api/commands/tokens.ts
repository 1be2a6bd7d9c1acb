// Issuing and revoking tokens: the store keeps only the hash, a revocation reaches this
// process's token cache at once, and both are audited (without the token itself).
import type { Role } from '../../lib/auth/roles';
import { createToken, revokeToken } from '../../lib/store/tokens';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

export async function issueToken(
  ctx: ApiContext,
  caller: Caller,
  input: { name: string; subject?: string; role: Role; expiresInDays?: number }
) {
  const created = await createToken(ctx.db, {
    name: input.name,
    subject: input.subject ?? input.name,
    role: input.role,
    createdBy: caller.who.tokenId,
    expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
  });
  const { info } = created;
  await caller.audit({
    action: 'token.create',
    object: { type: 'token', id: info._id },
    details: { name: info.name, subject: info.subject, role: info.role },
  });
  return created;
}

export async function withdrawToken(ctx: ApiContext, caller: Caller, id: string): Promise<void> {
  const info = await revokeToken(ctx.db, id);
  if (!info) throw problems.notFound(`No active token ${id}. It may be revoked already.`);
  ctx.tokenCache.invalidate();
  await caller.audit({ action: 'token.revoke', object: { type: 'token', id } });
}

// Moving an alias: the target version must be one the alias may hold (lib/auth/policies.ts:
// 409 otherwise), the store moves it atomically keeping the previous holder, and a real move
// is audited.
import { aliasRefusal } from '../../lib/auth/policies';
import { moveAlias as storeMoveAlias } from '../../lib/store/models';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';
import { mustGetVersion } from './model-lookup';

export async function moveAlias(
  ctx: ApiContext,
  caller: Caller,
  input: { name: string; alias: string; version: number; reason?: string }
) {
  const { name, alias, version, reason } = input;
  const target = await mustGetVersion(ctx, name, version);
  const refusal = aliasRefusal(target, alias);
  if (refusal) throw problems.conflict(refusal.message, { extra: { versionStatus: target.status } });
  const result = await storeMoveAlias(ctx.store, { name, alias, version, by: caller.who.subject, reason });
  if (result.moved) {
    await caller.audit({
      action: 'model.alias.move',
      object: { type: 'model', id: name },
      details: { alias, version, previous: result.previous?.version ?? null, ...(reason ? { reason } : {}) },
    });
  }
  return { name, alias, moved: result.moved, holder: result.holder, previous: result.previous };
}

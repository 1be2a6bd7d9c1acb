// Applying a features file: each view is checked against its source and stored under the hash of
// its content (lib/features/apply.ts), a definition that does not hold is a 422 naming each field,
// and only views that got a new version are audited (re-applying the same file changes nothing).
import { applyFeatures, FeatureDefinitionError } from '../../lib/features/apply';
import type { FeaturesFile } from '../../lib/features/definition';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

export async function applyFeaturesFile(ctx: ApiContext, caller: Caller, file: FeaturesFile) {
  try {
    const { views } = await applyFeatures(ctx.store, ctx.cfg.datasetsDir, file, caller.who.subject);
    const created = views.filter((v) => v.created);
    if (created.length > 0)
      await caller.audit({
        action: 'features.apply',
        object: { type: 'feature_view', id: created.map((v) => `${v.name}@v${v.version}`).join(',') },
      });
    return { views };
  } catch (err) {
    if (err instanceof FeatureDefinitionError)
      throw problems.unprocessable(err.message, {
        errors: err.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })),
      });
    throw err;
  }
}

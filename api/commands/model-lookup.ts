// A model version, or a 404 that says whether the model or only the version is missing.
import { getModel, getModelVersion, type ModelVersionDoc } from '../../lib/store/models';
import type { ApiContext } from '../context';
import { problems } from '../errors';

export async function mustGetVersion(ctx: ApiContext, name: string, version: number): Promise<ModelVersionDoc> {
  const v = await getModelVersion(ctx.store, name, version);
  if (v) return v;
  const m = await getModel(ctx.store, name);
  throw problems.notFound(
    m
      ? `Model ${name} has no version ${version} (latest is ${m.latestVersion}).`
      : `No model ${name}. List models with GET /v1/models.`
  );
}

// A model or a model version, or a 404 that says what is missing (the model, or only the version)
// and how to find what exists.
import { getModel, getModelVersion, type ModelDoc, type ModelVersionDoc } from '../../lib/store/models';
import type { ApiContext } from '../context';
import { problems } from '../errors';

const noModel = (name: string) => problems.notFound(`No model ${name}. List models with GET /v1/models.`);

export async function mustGetModel(ctx: ApiContext, name: string): Promise<ModelDoc> {
  const m = await getModel(ctx.store, name);
  if (!m) throw noModel(name);
  return m;
}

export async function mustGetVersion(ctx: ApiContext, name: string, version: number): Promise<ModelVersionDoc> {
  const v = await getModelVersion(ctx.store, name, version);
  if (v) return v;
  const m = await getModel(ctx.store, name);
  if (!m) throw noModel(name);
  throw problems.notFound(`Model ${name} has no version ${version} (latest is ${m.latestVersion}).`);
}

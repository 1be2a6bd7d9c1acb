// Data residency: which region a run belongs to, and whether it may run at all.
// A dataset under a folder listed in MLOPS_DATASET_REGIONS belongs to that folder's region;
// bundled and synthetic datasets belong to none. A run's region is its spec's `region`, or else
// its dataset's. The API checks this at submission; the workers check it again (the activity
// region guard and ingest), so a routing bug cannot move data out of its region.
import path from 'node:path';
import type { Config } from '../config';
import type { DatasetSpec } from './schema';
import { markErrorClass } from '../workflow-safe/typed-error';

type ResidencyConfig = Pick<Config, 'datasetsDir' | 'MLOPS_DATASET_REGIONS' | 'MLOPS_REGIONS'>;
type DatasetRegionConfig = Pick<Config, 'datasetsDir' | 'MLOPS_DATASET_REGIONS'>;

export class ResidencyError extends Error {}
markErrorClass(ResidencyError, 'ResidencyError');

/**
 * The region of the dataset file at `file` (absolute, or relative to the datasets root), by the
 * longest matching folder of MLOPS_DATASET_REGIONS; undefined when no folder holds it.
 * Normalised first, so `us/../eu/x.csv` is eu data.
 */
export function datasetFileRegion(cfg: DatasetRegionConfig, file: string): string | undefined {
  const rel = path.relative(cfg.datasetsDir, path.resolve(cfg.datasetsDir, file)).split(path.sep).join('/');
  let best: { folder: string; region: string } | undefined;
  for (const entry of cfg.MLOPS_DATASET_REGIONS) {
    const inside = rel === entry.folder || rel.startsWith(`${entry.folder}/`);
    if (inside && (!best || entry.folder.length > best.folder.length)) best = entry;
  }
  return best?.region;
}

function datasetRegion(cfg: DatasetRegionConfig, dataset: DatasetSpec): string | undefined {
  if ('features' in dataset) return datasetFileRegion(cfg, dataset.features.entities);
  return 'path' in dataset ? datasetFileRegion(cfg, dataset.path) : undefined;
}

/**
 * The region a run executes in (undefined: the unsuffixed default fleet). Throws ResidencyError,
 * saying what to change, when the spec asks for a region other than its dataset's or for a
 * region with no configured fleet.
 */
export function runRegion(cfg: ResidencyConfig, spec: { region?: string; dataset: DatasetSpec }): string | undefined {
  const dataRegion = datasetRegion(cfg, spec.dataset);
  if (spec.region && dataRegion && spec.region !== dataRegion) {
    throw new ResidencyError(
      `the dataset is in region '${dataRegion}' (MLOPS_DATASET_REGIONS), so a run in region '${spec.region}' may not ` +
        `read it; set "region": "${dataRegion}" or leave region out`
    );
  }
  const region = spec.region ?? dataRegion;
  if (region && !cfg.MLOPS_REGIONS.includes(region)) {
    const known = cfg.MLOPS_REGIONS.length ? cfg.MLOPS_REGIONS.join(', ') : 'none';
    throw new ResidencyError(
      `no worker fleet is configured for region '${region}' (MLOPS_REGIONS lists: ${known}); start workers with ` +
        `MLOPS_WORKER_REGION=${region} and add the region to MLOPS_REGIONS, or run in a configured region`
    );
  }
  return region;
}

/**
 * Defence in depth at the worker: throws ResidencyError when `file` (relative to, or inside,
 * `cfg.datasetsDir`) belongs to a region other than the worker's own.
 */
export function checkWorkerMayRead(
  cfg: Pick<Config, 'datasetsDir' | 'MLOPS_DATASET_REGIONS' | 'MLOPS_WORKER_REGION'>,
  file: string
): void {
  const dataRegion = datasetFileRegion(cfg, file);
  const mine = cfg.MLOPS_WORKER_REGION ?? '';
  if (dataRegion && dataRegion !== mine) {
    throw new ResidencyError(
      `dataset '${file}' is in region '${dataRegion}' and this worker serves ${mine ? `region '${mine}'` : 'no region'}: ` +
        `refused for data residency; run it in region '${dataRegion}'`
    );
  }
}

import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { checkWorkerMayRead, datasetFileRegion, runRegion } from '../../../lib/spec/residency';

const datasetsDir = path.resolve('/srv/datasets');
const cfg = (env: Record<string, string> = {}) =>
  loadConfig({
    MLOPS_DATASETS_DIR: datasetsDir,
    MLOPS_DATASET_REGIONS: 'eu=eu, customers/us=us, customers=global',
    MLOPS_REGIONS: 'eu,us',
    ...env,
  });

describe('dataset regions', () => {
  it('tags a file by the longest folder that holds it, after normalising the path', () => {
    const c = cfg();
    expect(datasetFileRegion(c, 'eu/penguins.csv')).toBe('eu');
    expect(datasetFileRegion(c, 'customers/us/a.csv')).toBe('us');
    expect(datasetFileRegion(c, 'customers/other/a.csv')).toBe('global');
    expect(datasetFileRegion(c, 'us/../eu/x.csv')).toBe('eu');
    expect(datasetFileRegion(c, path.join(datasetsDir, 'eu', 'x.csv'))).toBe('eu');
    expect(datasetFileRegion(c, 'europe/x.csv')).toBeUndefined(); // a folder, not a prefix of a name
    expect(datasetFileRegion(c, 'public/x.csv')).toBeUndefined();
  });

  it('refuses malformed MLOPS_DATASET_REGIONS and MLOPS_REGIONS, naming the variable', () => {
    expect(() => cfg({ MLOPS_DATASET_REGIONS: '../etc=eu' })).toThrow(/MLOPS_DATASET_REGIONS/);
    expect(() => cfg({ MLOPS_DATASET_REGIONS: 'eu' })).toThrow(/<folder>=<region> pairs/);
    expect(() => cfg({ MLOPS_REGIONS: 'EU' })).toThrow(/MLOPS_REGIONS/);
    expect(cfg({ MLOPS_REGIONS: '' }).MLOPS_REGIONS).toEqual([]);
  });
});

describe('run region', () => {
  const c = cfg();
  it("defaults to the dataset's region and leaves untagged data on the default fleet", () => {
    expect(runRegion(c, { dataset: { path: 'eu/a.csv' } })).toBe('eu');
    expect(runRegion(c, { dataset: { name: 'penguins' } })).toBeUndefined();
    expect(runRegion(c, { region: 'us', dataset: { name: 'penguins' } })).toBe('us');
  });

  it("refuses a region other than the dataset's, and one with no fleet", () => {
    expect(() => runRegion(c, { region: 'us', dataset: { path: 'eu/a.csv' } })).toThrow(
      /dataset is in region 'eu'.*set "region": "eu"/
    );
    expect(() => runRegion(c, { region: 'ap', dataset: { name: 'penguins' } })).toThrow(
      /no worker fleet is configured for region 'ap' \(MLOPS_REGIONS lists: eu, us\)/
    );
    expect(() => runRegion(c, { dataset: { path: 'customers/x.csv' } })).toThrow(/region 'global'/);
  });
});

describe('worker check', () => {
  it("lets a worker read its own region's and untagged data only", () => {
    const eu = cfg({ MLOPS_WORKER_REGION: 'eu' });
    expect(() => checkWorkerMayRead(eu, 'eu/a.csv')).not.toThrow();
    expect(() => checkWorkerMayRead(eu, 'public/a.csv')).not.toThrow();
    expect(() => checkWorkerMayRead(eu, 'customers/us/a.csv')).toThrow(
      /dataset 'customers\/us\/a.csv' is in region 'us' and this worker serves region 'eu'/
    );
    expect(() => checkWorkerMayRead(cfg(), 'eu/a.csv')).toThrow(/this worker serves no region/);
  });
});

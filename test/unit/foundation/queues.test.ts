import { queueRegion, regionQueue, regionQueues } from '../../../lib/workflow-safe/queues';
import { parseRunSpec, safeParseRunSpec } from '../../../lib/spec';

describe('region routing', () => {
  const queues = { control: 'mlops-control', gpu: 'mlops-gpu', cpu: 'mlops-cpu' };

  it('suffixes every fleet queue with the region, or leaves them alone', () => {
    expect(regionQueues(queues, 'eu')).toEqual({
      control: 'mlops-control@eu',
      gpu: 'mlops-gpu@eu',
      cpu: 'mlops-cpu@eu',
    });
    expect(regionQueues(queues, undefined)).toEqual(queues);
    expect(regionQueue('mlops-gpu', 'us')).toBe('mlops-gpu@us');
  });

  it('reads the region back from a queue name', () => {
    expect(queueRegion('mlops-gpu@eu-west')).toBe('eu-west');
    expect(queueRegion('mlops-gpu')).toBe('');
  });

  it('takes a region in the run spec and refuses one that is not a plain name', () => {
    const base = { model: 'm', dataset: { name: 'penguins' }, target: 'species' };
    expect(parseRunSpec({ ...base, region: 'eu-west' }).region).toBe('eu-west');
    expect(parseRunSpec(base).region).toBeUndefined();
    expect(safeParseRunSpec({ ...base, region: 'EU/../x' })).toMatchObject({
      ok: false,
      problems: [{ path: 'region' }],
    });
    expect(safeParseRunSpec({ ...base, pool: 'eu' })).toMatchObject({ ok: false });
  });
});

import { parseRunSpec, safeParseRunSpec } from '../../../lib/spec';
import { poolQueues } from '../../../lib/temporal/queues';

describe('pool routing', () => {
  const queues = { control: 'mlops-control', gpu: 'mlops-gpu', cpu: 'mlops-cpu' };

  it('suffixes every fleet queue with the pool, or leaves them alone', () => {
    expect(poolQueues(queues, 'eu')).toEqual({ control: 'mlops-control@eu', gpu: 'mlops-gpu@eu', cpu: 'mlops-cpu@eu' });
    expect(poolQueues(queues, undefined)).toEqual(queues);
  });

  it('takes a pool in the run spec and refuses one that is not a plain name', () => {
    const base = { model: 'penguins', dataset: { name: 'penguins' }, target: 'species' };
    expect(parseRunSpec({ ...base, pool: 'eu-west' }).pool).toBe('eu-west');
    expect(parseRunSpec(base).pool).toBeUndefined();
    expect(safeParseRunSpec({ ...base, pool: 'EU/../x' })).toMatchObject({ ok: false, problems: [{ path: 'pool' }] });
  });
});

// The rollout gate rules on their own: what passes, what fails (and how early), what stays
// inconclusive, and the numbers each decision reports.
import {
  decideGate,
  emptyStats,
  jensenShannon,
  psi,
  quantileMs,
  sumStats,
  type VersionStats,
} from '../../../lib/deploy/gates';
import { deploySchema } from '../../../lib/spec/deploy';
import { LATENCY_BOUNDS_MS } from '../../../lib/store/deployments';

const gates = deploySchema.parse({}).gates;

function stats(
  requests: number,
  o: { errors?: number; bucket?: number; predictions?: Record<string, number> } = {}
): VersionStats {
  const s = emptyStats();
  s.requests = requests;
  s.errors = o.errors ?? 0;
  s.latency[o.bucket ?? 2] = requests;
  s.predictions = o.predictions ?? { a: Math.round(requests * 0.6), b: requests - Math.round(requests * 0.6) };
  return s;
}

describe('rollout gates', () => {
  it('passes a candidate that looks like stable, with the numbers used', () => {
    const d = decideGate(gates, stats(300), stats(3000), { compareShift: true });
    expect(d).toMatchObject({
      outcome: 'pass',
      reasons: [],
      shift: 0,
      candidate: { requests: 300, errorRate: 0, p99Ms: 5 },
    });
  });

  it('is inconclusive below minRequests, and never passes on silence', () => {
    expect(decideGate(gates, stats(0), stats(0), { compareShift: true }).outcome).toBe('inconclusive');
    const d = decideGate(gates, stats(199), stats(3000), { compareShift: true });
    expect(d.outcome).toBe('inconclusive');
    expect(d.reasons[0]).toMatch(/199 candidate requests, fewer than minRequests 200/);
  });

  it('fails early on errors that minRequests answers could not absorb', () => {
    expect(decideGate(gates, stats(50, { errors: 2 }), stats(3000), { compareShift: true }).outcome).toBe(
      'inconclusive'
    );
    const d = decideGate(gates, stats(50, { errors: 3 }), stats(3000), { compareShift: true });
    expect(d.outcome).toBe('fail');
    expect(d.reasons[0]).toMatch(/error rate 3\/50 exceeds maxErrorRate 0.01/);
  });

  it('fails on p99 from the histogram and on a prediction shift', () => {
    const slow = decideGate(gates, stats(300, { bucket: LATENCY_BOUNDS_MS.indexOf(1000) }), stats(3000), {
      compareShift: true,
    });
    expect(slow).toMatchObject({ outcome: 'fail', candidate: { p99Ms: 1000 } });
    const shifted = decideGate(gates, stats(300, { predictions: { c: 300 } }), stats(3000), { compareShift: true });
    expect(shifted.outcome).toBe('fail');
    expect(shifted.shift).toBe(1);
    expect(shifted.reasons[0]).toMatch(/prediction shift/);
  });

  it('skips the shift where stable takes no traffic (blue-green after the switch)', () => {
    expect(
      decideGate(gates, stats(300, { predictions: { c: 300 } }), emptyStats(), { compareShift: false })
    ).toMatchObject({
      outcome: 'pass',
      shift: null,
    });
  });

  it('computes quantiles, divergences and sums', () => {
    const h = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    h[0] = 98;
    h[3] = 1;
    h[LATENCY_BOUNDS_MS.length] = 1;
    expect(quantileMs(h, 0.99)).toBe(10);
    expect(quantileMs(h, 1)).toBe(LATENCY_BOUNDS_MS.at(-1)! + 1);
    expect(jensenShannon({ a: 1 }, { a: 5 })).toBe(0);
    expect(jensenShannon({ a: 1 }, { b: 1 })).toBe(1);
    expect(psi({ a: 50, b: 50 }, { a: 50, b: 50 })).toBeCloseTo(0);
    expect(psi({ a: 90, b: 10 }, { a: 10, b: 90 })).toBeGreaterThan(1);
    // Bucket counts as an object keyed by index (a writer's $inc into an empty document) add up too.
    const s = sumStats([
      { requests: 2, errors: 1, latency: [1, 1], predictions: { a: 2 } },
      { requests: 1, errors: 0, latency: { 1: 1 } as never, predictions: { b: 1 } },
    ]);
    expect(s).toMatchObject({ requests: 3, errors: 1, predictions: { a: 2, b: 1 } });
    expect(s.latency.slice(0, 2)).toEqual([1, 2]);
  });
});

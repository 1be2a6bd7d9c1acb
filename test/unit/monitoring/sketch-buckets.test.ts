// Which drift-sketch documents a window reads: whole hours as hour roll-ups, ragged edges as
// buckets, every bucket overlapping the window exactly once (lib/store/drift-sketches.ts).
import { bucketsOverlapping, HOUR_MS, sketchId, windowDocuments } from '../../../lib/store/drift-sketches';

const M = 60_000;
const H = HOUR_MS;

/** The buckets a document list stands for. */
const covered = (docs: { bucketStart: number; bucketMs: number }[], width: number) =>
  docs.flatMap((d) => bucketsOverlapping(d.bucketStart, d.bucketStart + d.bucketMs, width));

describe('drift sketch buckets', () => {
  it('a 24 h window ending on an hour is 24 hour documents', () => {
    const docs = windowDocuments(100 * H, 124 * H, M);
    expect(docs).toHaveLength(24);
    expect(docs.every((d) => d.bucketMs === H)).toBe(true);
    expect(covered(docs, M)).toEqual(bucketsOverlapping(100 * H, 124 * H, M));
  });

  it('ragged edges round outwards to whole buckets, each bucket read once', () => {
    const from = 100 * H + 30 * M + 15_000;
    const to = 103 * H + 10 * M + 1;
    const docs = windowDocuments(from, to, M);
    expect(docs.filter((d) => d.bucketMs === H).map((d) => d.bucketStart)).toEqual([101 * H, 102 * H]);
    expect(docs[0]).toEqual({ bucketStart: 100 * H + 30 * M, bucketMs: M }); // starts before `from`
    expect(docs[docs.length - 1]).toEqual({ bucketStart: 103 * H + 10 * M, bucketMs: M }); // ends after `to`
    expect(covered(docs, M)).toEqual(bucketsOverlapping(from, to, M));
    expect(docs).toHaveLength(30 + 2 + 11);
  });

  it('a window inside one hour is buckets only; hour documents have ids of their own', () => {
    const docs = windowDocuments(5 * H + 10 * M, 5 * H + 20 * M, M);
    expect(docs.map((d) => d.bucketMs)).toEqual(new Array(10).fill(M));
    expect(sketchId('m', 2, 5 * H, H)).toBe(`m:2:h:${5 * H}`);
    expect(sketchId('m', 2, 5 * H, M)).toBe(`m:2:${5 * H}`);
  });
});

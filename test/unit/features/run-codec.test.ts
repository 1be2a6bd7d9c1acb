// The sort-run line formats must give back exactly what was written, whatever the text holds:
// a wrong round-trip would silently change training data once a join spills to disk.
import { featureRowCodec, labelKeyCodec, matchCodec } from '../../../lib/features/run-codec';

describe('sort-run line formats', () => {
  const awkward = ['a\tb', 'two\nlines', '"quoted"', '1', '', '!', 'é ✓'];

  it('round-trips feature rows with awkward keys and text, numbers and nulls', () => {
    for (const k of ['c1', ...awkward.filter((s) => s !== '')]) {
      const row = { k, t: 1767225600123, v: [1.5, -2.25, null, 1e-300, Infinity, 42, ...awkward] };
      const line = featureRowCodec.encode(row);
      expect(line).not.toContain('\n');
      expect(featureRowCodec.decode(line)).toEqual(row);
    }
  });

  it('keeps a row with no features apart from a null match', () => {
    expect(featureRowCodec.decode(featureRowCodec.encode({ k: 'x', t: 0, v: [] }))).toEqual({ k: 'x', t: 0, v: [] });
    expect(matchCodec.decode(matchCodec.encode({ i: 7, v: null }))).toEqual({ i: 7, v: null });
    expect(matchCodec.decode(matchCodec.encode({ i: 8, v: [null, 'x'] }))).toEqual({ i: 8, v: [null, 'x'] });
  });

  it('round-trips label keys, including the empty key of a label without entity', () => {
    for (const k of ['', 'c\t1', 'c1\u001fc2'])
      expect(labelKeyCodec.decode(labelKeyCodec.encode({ k, t: -5000, i: 3 }))).toEqual({ k, t: -5000, i: 3 });
  });
});

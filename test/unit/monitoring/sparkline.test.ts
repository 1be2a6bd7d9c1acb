// The CLI's sparkline: scaled between the series' min and max, gaps for windows without a score.
import { sparkline } from '../../../cli/monitor';

describe('sparkline', () => {
  it('maps the lowest value to ▁ and the highest to █', () => {
    expect(sparkline([0, 0.5, 1])).toBe('▁▅█');
    expect(sparkline([2, 2, 2])).toBe('▁▁▁');
    expect(sparkline([1, null, 3])).toBe('▁ █');
  });
});

// Time partitions of a materialization range: [start, end) cut at multiples of the partition
// width (UTC), so the same range always gives the same partitions and a partition of one run
// is the same partition, with the same content address, in the next. Pure: the workflow uses it.

export interface TimePartition {
  start: number;
  end: number;
}

export const MAX_PARTITIONS = 10_000;

export function planPartitions(start: number, end: number, widthMs: number): TimePartition[] {
  if (!(end > start)) throw new RangeError('the range is empty: --end must be after --start');
  if (!(widthMs > 0)) throw new RangeError('the partition width must be positive');
  const out: TimePartition[] = [];
  let s = start;
  while (s < end) {
    const e = Math.min(end, (Math.floor(s / widthMs) + 1) * widthMs);
    out.push({ start: s, end: e });
    s = e;
    if (out.length > MAX_PARTITIONS)
      throw new RangeError(`more than ${MAX_PARTITIONS} partitions; use a wider partition or a shorter range`);
  }
  return out;
}

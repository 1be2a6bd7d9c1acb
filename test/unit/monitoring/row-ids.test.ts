// Labels by row id, the pure parts: the feedback body's two forms and their limits, the documents
// they become (row ids and request ids never share an _id), and the inference server taking the
// id column out of a request (serving/row-ids.ts) with a clear 400 for a bad one.
import { feedbackBodySchema, feedbackDocs, FEEDBACK_LIMITS } from '../../../lib/monitoring/feedback';
import { ProtocolError, type InferRequest } from '../../../serving/protocol';
import { checkRowCount, takeRowIds } from '../../../serving/row-ids';

const at = new Date(0);

describe('feedback body', () => {
  it('takes labels by request id or by row id, not both and not neither', () => {
    expect(feedbackBodySchema.safeParse({ items: [{ requestId: 'r1', label: 'A' }] }).success).toBe(true);
    const rows = feedbackBodySchema.parse({
      rows: [
        { id: 'p-1', label: 'A' },
        { id: 17, label: 2.5 },
      ],
    });
    expect(rows.rows).toEqual([
      { id: 'p-1', label: 'A' },
      { id: '17', label: 2.5 },
    ]);
    for (const bad of [
      {},
      { items: [{ requestId: 'r1', label: 'A' }], rows: [{ id: 'p', label: 'A' }] },
      { rows: [] },
      { rows: [{ id: '', label: 'A' }] },
      { rows: [{ id: 'x'.repeat(FEEDBACK_LIMITS.rowIdChars + 1), label: 'A' }] },
      { rows: [{ id: 1.5, label: 'A' }] },
      { rows: [{ id: 'p', label: 'A', extra: 1 }] },
      { rows: Array.from({ length: FEEDBACK_LIMITS.rows + 1 }, (_, i) => ({ id: `p${i}`, label: 'A' })) },
    ]) {
      expect(feedbackBodySchema.safeParse(bad).success).toBe(false);
    }
    expect(feedbackBodySchema.safeParse({}).error?.issues[0].message).toContain('either `items`');
  });

  it('stores row labels apart from request labels, one per id, the last one sent winning', () => {
    const byRow = feedbackDocs(
      'pen',
      feedbackBodySchema.parse({
        rows: [
          { id: 'a', label: 'Adelie' },
          { id: 'a', label: 'Gentoo' },
        ],
      }),
      't',
      at
    );
    expect(byRow).toEqual([{ _id: 'pen#a', model: 'pen', rowId: 'a', labels: ['Gentoo'], at, by: 't' }]);
    const byRequest = feedbackDocs(
      'pen',
      feedbackBodySchema.parse({ items: [{ requestId: 'a', label: 'A' }] }),
      't',
      at
    );
    expect(byRequest).toEqual([{ _id: 'pen:a', model: 'pen', requestId: 'a', labels: ['A'], at, by: 't' }]);
  });
});

describe('takeRowIds', () => {
  const request = (ids: unknown[], shape = [ids.length, 1]): InferRequest => ({
    inputs: [
      { name: 'bill_length_mm', shape: [2, 1], datatype: 'FP32', data: [40, 41] },
      { name: 'pid', shape, datatype: 'BYTES', data: ids },
    ],
  });

  it('takes the id column out and keeps every other input', () => {
    const { request: rest, rowIds } = takeRowIds(request(['p-1', 7]), 'pid');
    expect(rowIds).toEqual(['p-1', '7']);
    expect(rest.inputs.map((i) => i.name)).toEqual(['bill_length_mm']);
  });

  it('leaves a request alone when the model has no id column (then decoding refuses the input)', () => {
    const req = request(['p-1', 'p-2']);
    expect(takeRowIds(req, null)).toEqual({ request: req });
    expect(takeRowIds(req, 'other')).toEqual({ request: req });
  });

  it('refuses bad ids with a 400 naming the column', () => {
    for (const [ids, shape] of [
      [['p-1', null], undefined],
      [['p-1', 1.5], undefined],
      [['p-1', ''], undefined],
      [['p-1', 'x'.repeat(129)], undefined],
      [
        ['p-1', 'p-2'],
        [3, 1],
      ],
      [
        ['p-1', 'p-2'],
        [2, 2],
      ],
    ] as [unknown[], number[] | undefined][]) {
      let err: unknown;
      try {
        takeRowIds(request(ids, shape), 'pid');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).status).toBe(400);
      expect((err as ProtocolError).message).toContain("id column 'pid'");
    }
    expect(() => checkRowCount(['a'], 2, 'pid')).toThrow("id column 'pid' has 1 ids; the request has 2 rows");
    expect(() => checkRowCount(undefined, 2, 'pid')).not.toThrow();
  });
});

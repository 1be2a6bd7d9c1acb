// The rules beyond the role check (lib/auth/policies.ts): four eyes, cancel by the starter or an
// admin, and which versions an alias may hold.
import { aliasRefusal, cancelRefusal, decisionRefusal } from '../../../lib/auth/policies';

const sam = { subject: 'sam', role: 'scientist' as const };
const alice = { subject: 'alice', role: 'approver' as const };
const admin = { subject: 'root', role: 'admin' as const };

describe('policies', () => {
  it('four eyes: the starter may not decide on a run, anyone else may', () => {
    expect(decisionRefusal(sam, { runId: 'r1', createdBy: 'sam' }, 'approve')).toMatchObject({
      reason: 'four-eyes',
      message: expect.stringMatching(/sam started run r1 and may not approve it/),
    });
    expect(decisionRefusal(alice, { runId: 'r1', createdBy: 'sam' }, 'approve')).toBeNull();
    expect(decisionRefusal(alice, { runId: 'r1' }, 'reject')).toBeNull();
  });

  it('cancel: the starter or an admin', () => {
    expect(cancelRefusal(sam, { noun: 'run', id: 'r1', createdBy: 'sam' })).toBeNull();
    expect(cancelRefusal(admin, { noun: 'run', id: 'r1', createdBy: 'sam' })).toBeNull();
    expect(cancelRefusal(alice, { noun: 'batch', id: 'b1', createdBy: 'sam' })).toEqual({
      reason: 'not-owner',
      message: 'Batch b1 was started by someone else; only they or an admin may cancel it.',
    });
  });

  it('aliases: never a rejected or expired version; production only an approved or promoted one', () => {
    const v = (status: string) => ({ name: 'm', version: 2, status });
    for (const s of ['rejected', 'expired']) expect(aliasRefusal(v(s), 'staging')?.message).toMatch(/cannot hold/);
    expect(aliasRefusal(v('candidate'), 'staging')).toBeNull();
    expect(aliasRefusal(v('candidate'), 'production')?.message).toMatch(/production may only point at an approved/);
    for (const s of ['approved', 'promoted']) expect(aliasRefusal(v(s), 'production')).toBeNull();
  });
});

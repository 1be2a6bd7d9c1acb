// The API's voucher for an approval decision: only the keyring's holder can make one, it fits one
// run and one decision, and it goes stale.
import { randomBytes } from 'node:crypto';
import { checkVoucher, vouch, VOUCHER_MAX_AGE_MS } from '../../../lib/crypto/approval-voucher';
import type { Keyring } from '../../../lib/crypto/keyring';

const ring = (id = 'k1'): Keyring => ({ activeId: id, keys: new Map([[id, randomBytes(32)]]) });

describe('approval voucher', () => {
  const keyring = ring();
  const now = 1_800_000_000_000;
  const d = vouch(keyring, 'run-1', { decision: 'approve', approver: 'bob', comment: 'ok' }, now);

  it('is accepted for its run, by the same keyring, while fresh', () => {
    expect(d).toMatchObject({ decision: 'approve', approver: 'bob', comment: 'ok', at: now });
    expect(checkVoucher(keyring, 'run-1', d, now + VOUCHER_MAX_AGE_MS)).toEqual({ ok: true });
    expect(checkVoucher(keyring, 'run-1', d, now - VOUCHER_MAX_AGE_MS)).toEqual({ ok: true });
  });

  it('is refused when any signed field changes, for another run, or under another key', () => {
    const bad = { ok: false, reason: 'bad-signature' };
    expect(checkVoucher(keyring, 'run-2', d, now)).toEqual(bad);
    expect(checkVoucher(keyring, 'run-1', { ...d, approver: 'mallory' }, now)).toEqual(bad);
    expect(checkVoucher(keyring, 'run-1', { ...d, decision: 'reject' }, now)).toEqual(bad);
    expect(checkVoucher(keyring, 'run-1', { ...d, comment: 'changed' }, now)).toEqual(bad);
    expect(checkVoucher(keyring, 'run-1', { ...d, at: now + 1 }, now)).toEqual(bad);
    expect(checkVoucher(ring('k1'), 'run-1', d, now)).toEqual(bad);
    expect(checkVoucher(ring('k2'), 'run-1', d, now)).toEqual(bad);
    expect(checkVoucher(keyring, 'run-1', { ...d, signature: { ...d.signature, value: 42 as never } }, now)).toEqual(
      bad
    );
  });

  it('is refused when unsigned or stale', () => {
    expect(checkVoucher(keyring, 'run-1', { ...d, signature: undefined as never }, now)).toEqual({
      ok: false,
      reason: 'unsigned',
    });
    expect(checkVoucher(keyring, 'run-1', d, now + VOUCHER_MAX_AGE_MS + 1)).toEqual({ ok: false, reason: 'stale' });
    expect(checkVoucher(keyring, 'run-1', d, now - VOUCHER_MAX_AGE_MS - 1)).toEqual({ ok: false, reason: 'stale' });
  });

  it('a decision signed without a comment cannot gain one', () => {
    const plain = vouch(keyring, 'run-1', { decision: 'reject', approver: 'bob' }, now);
    expect(plain).not.toHaveProperty('comment');
    expect(checkVoucher(keyring, 'run-1', plain, now)).toEqual({ ok: true });
    expect(checkVoucher(keyring, 'run-1', { ...plain, comment: 'added' }, now)).toMatchObject({ ok: false });
  });
});

// The audit chain against someone who can edit the database but does not hold the keyring: every
// kind of tampering (edit, delete, reorder, cut the newest entries, rewrite the whole chain,
// lower the head) is reported with the first bad seq. Each test gets a fresh database.
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../../../lib/store/db';
import {
  appendAudit,
  audit,
  AUDIT_HEAD_COLLECTION,
  entryHash,
  verifyAuditChain,
  type AuditEntry,
} from '../../../lib/store/audit';
import { testConfig } from '../harness/env';

const stores: Store[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

/** A fresh database holding a valid chain of `n` entries. */
async function chain(n: number, opts: { keyring?: boolean } = {}): Promise<Store> {
  const store = await openStore(testConfig());
  stores.push(store);
  const s = opts.keyring === false ? { ...store, keyring: undefined } : store;
  for (let i = 1; i <= n; i++) {
    await appendAudit(s, {
      actor: { tokenId: 't1', subject: 'alice', role: 'admin' },
      action: 'run.start',
      object: { type: 'run', id: `run-${i}` },
    });
  }
  return s;
}

const entries = (store: Store) => audit(store.db).find({}).sort({ _id: 1 }).toArray();

/** What an editor without the key can do: rewrite an entry and recompute its hash. */
async function rewrite(store: Store, seq: number, change: Partial<AuditEntry>): Promise<AuditEntry> {
  const old = (await audit(store.db).findOne({ _id: seq }))!;
  const { _id, hash, mac, ...body } = { ...old, ...change };
  void hash;
  const next = { _id, ...body, hash: entryHash(body), ...(mac ? { mac } : {}) } as AuditEntry;
  await audit(store.db).replaceOne({ _id: seq }, next);
  return next;
}

describe('audit chain verification', () => {
  it('accepts an intact chain and counts its entries', async () => {
    const store = await chain(5);
    expect(await verifyAuditChain(store)).toEqual({ ok: true, checked: 5 });
  });

  it('reports an edited entry (hash left as it was) at its seq', async () => {
    const store = await chain(5);
    await audit(store.db).updateOne({ _id: 3 }, { $set: { 'object.id': 'run-other' } });
    expect(await verifyAuditChain(store)).toEqual({
      ok: false,
      checked: 2,
      broken: { seq: 3, reason: 'content does not match its hash (edited?)' },
    });
  });

  it('reports an edited entry whose hash was recomputed by its signature', async () => {
    const store = await chain(5);
    await rewrite(store, 3, { object: { type: 'run', id: 'run-other' } });
    // Its own hash fits, but its MAC signs the old hash.
    expect((await verifyAuditChain(store)).broken).toEqual({
      seq: 3,
      reason: 'signature does not match (rewritten without the audit key?)',
    });
  });

  it('reports a deleted entry in the middle', async () => {
    const store = await chain(5);
    await audit(store.db).deleteOne({ _id: 3 });
    expect((await verifyAuditChain(store)).broken).toEqual({ seq: 3, reason: 'entry missing (deleted?)' });
  });

  it('reports two entries swapped in place', async () => {
    const store = await chain(5);
    const [e2, e3] = [(await audit(store.db).findOne({ _id: 2 }))!, (await audit(store.db).findOne({ _id: 3 }))!];
    await audit(store.db).deleteMany({ _id: { $in: [2, 3] } });
    await audit(store.db).insertMany([
      { ...e3, _id: 2 },
      { ...e2, _id: 3 },
    ]);
    expect((await verifyAuditChain(store)).broken).toEqual({ seq: 2, reason: 'entry holds seq 3 (moved?)' });
  });

  it('reports a reorder with renumbered, rehashed entries by the broken prevHash link (no keyring)', async () => {
    // Without MACs the links are all that orders the chain.
    const store = await chain(4, { keyring: false });
    const [e2, e3] = [(await audit(store.db).findOne({ _id: 2 }))!, (await audit(store.db).findOne({ _id: 3 }))!];
    await rewrite(store, 2, { action: e3.action, object: e3.object, prevHash: e3.prevHash });
    await rewrite(store, 3, { action: e2.action, object: e2.object, prevHash: e2.prevHash });
    expect((await verifyAuditChain(store)).broken).toEqual({
      seq: 2,
      reason: 'prevHash does not match the previous entry (reordered?)',
    });
  });

  it('reports the newest entries deleted, by the signed head', async () => {
    const store = await chain(5);
    await audit(store.db).deleteMany({ _id: { $gte: 4 } });
    expect(await verifyAuditChain(store)).toEqual({
      ok: false,
      checked: 3,
      broken: {
        seq: 4,
        reason: 'entries up to seq 5 were written but the chain ends before (newest entries deleted?)',
      },
    });
  });

  it('reports a head moved back over the cut, because its signature no longer fits', async () => {
    const store = await chain(5);
    await audit(store.db).deleteMany({ _id: { $gte: 4 } });
    const e3 = (await audit(store.db).findOne({ _id: 3 }))!;
    // The editor copies entry 3's hash and MAC into the head: the MACs have different purposes.
    await store.db
      .collection(AUDIT_HEAD_COLLECTION)
      .updateOne({ _id: 'head' as never }, { $set: { seq: 3, hash: e3.hash, mac: e3.mac } });
    expect((await verifyAuditChain(store)).broken).toEqual({
      seq: 3,
      reason: 'audit_head signature does not match (edited?)',
    });
  });

  it('reports a whole chain replaced by a consistent one at seq 1', async () => {
    const store = await chain(3);
    // Written by the product's own code, with a key of the same id but other bytes.
    const keyId = store.keyring!.activeId;
    const fake = { db: store.db, keyring: { activeId: keyId, keys: new Map([[keyId, randomBytes(32)]]) } };
    await audit(store.db).deleteMany({});
    await store.db.collection(AUDIT_HEAD_COLLECTION).deleteMany({});
    for (let i = 1; i <= 3; i++) {
      await appendAudit(fake, { actor: null, action: 'run.start', object: { type: 'run', id: `fake-${i}` } });
    }
    expect((await entries(store)).map((e) => e.object.id)).toEqual(['fake-1', 'fake-2', 'fake-3']);
    expect(await verifyAuditChain(store)).toEqual({
      ok: false,
      checked: 0,
      broken: { seq: 1, reason: 'signature does not match (rewritten without the audit key?)' },
    });
  });

  it('reports a missing head when entries exist', async () => {
    const store = await chain(2);
    await store.db.collection(AUDIT_HEAD_COLLECTION).deleteMany({});
    expect((await verifyAuditChain(store)).broken).toEqual({
      seq: 1,
      reason: 'audit_head is missing: the chain cannot be proven complete',
    });
  });
});

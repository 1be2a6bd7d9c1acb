// The pure parts of retraining: which triggers a policy enables, cooldown and daily budget,
// schedule strings, webhook verification, row digests and the gate on held-out rows.
import { createHmac } from 'node:crypto';
import { rowHashes, rowHashSet, unseenRows } from '../../../lib/ml/dataset';
import { parseHookSecrets, pushOf, verifyGithubSignature, verifyGitlabToken } from '../../../lib/lifecycle/webhook';
import { evaluateGates } from '../../../lib/workflow-safe/quality-gates';
import { gatesSchema } from '../../../lib/spec/schema';
import { retrainPolicySchema, scheduleKind } from '../../../lib/spec/policy';
import { enabledTriggers, waitBeforeStart } from '../../../workflows/lifecycle';

const spec = { model: 'm', dataset: { name: 'penguins' }, target: 'species' };
const at = '2026-01-01T00:00:00Z';

describe('retrain policy rules', () => {
  const policy = retrainPolicySchema.parse({
    schedule: '0 3 * * 0',
    onData: { dataset: 'penguins' },
    onCommit: { repository: 'acme/m' },
    cooldown: '6h',
    maxPerDay: 2,
    spec,
  });

  it('enables only the triggers the policy names', () => {
    const r = enabledTriggers(policy, [
      { kind: 'schedule', scheduleId: 's', at },
      { kind: 'data', dataset: 'other', sha256: 'x', at },
      { kind: 'commit', repository: 'acme/m', branch: 'dev', sha: 'y', deliveryId: 'd', at },
      { kind: 'commit', repository: 'acme/m', branch: 'main', sha: 'y', deliveryId: 'd', at },
      { kind: 'drift', reportId: 'r', at },
    ]);
    expect(r.enabled.map((t) => t.kind)).toEqual(['schedule', 'commit']);
    expect(r.ignored).toEqual([
      "data: the policy does not retrain on dataset 'other'",
      "commit: the policy does not retrain on commits to acme/m 'dev'",
      'drift: retrain.onDrift is false',
    ]);
  });

  it('waits out the cooldown, then the daily budget until the next UTC day', () => {
    const day = Date.UTC(2026, 0, 2);
    expect(waitBeforeStart(policy, [], day + 1000).ms).toBe(0);
    expect(waitBeforeStart(policy, [day], day + 3_600_000)).toMatchObject({ ms: 5 * 3_600_000 });
    const two = [day + 1000, day + 7 * 3_600_000];
    const w = waitBeforeStart(policy, two, day + 14 * 3_600_000);
    expect(w.ms).toBe(10 * 3_600_000);
    expect(w.why).toMatch(/daily budget: 2 of 2/);
  });

  it('takes cron or an interval of at least a minute as the schedule', () => {
    expect(scheduleKind('0 3 * * 0')).toBe('cron');
    expect(scheduleKind('*/15 * * * MON')).toBe('cron');
    expect(scheduleKind('7d')).toBe('interval');
    expect(scheduleKind('10s')).toBeNull();
    expect(scheduleKind('every sunday')).toBeNull();
    expect(retrainPolicySchema.safeParse({ schedule: '0 3 * *', spec }).success).toBe(false);
  });
});

describe('git webhook verification', () => {
  const secrets = parseHookSecrets('acme/a=secret-a-0123456789,acme/b=secret-b-0123456789');
  const raw = Buffer.from('{"ref":"refs/heads/main"}');
  const sig = (s: string) => 'sha256=' + createHmac('sha256', s).update(raw).digest('hex');

  it('names the repository whose secret signed the raw body', () => {
    expect(verifyGithubSignature(raw, sig('secret-b-0123456789'), secrets)).toBe('acme/b');
    expect(verifyGithubSignature(raw, sig('nope'), secrets)).toBeNull();
    expect(verifyGithubSignature(Buffer.from(raw.toString() + ' '), sig('secret-a-0123456789'), secrets)).toBeNull();
    expect(verifyGithubSignature(raw, undefined, secrets)).toBeNull();
    expect(verifyGitlabToken('secret-a-0123456789', secrets)).toBe('acme/a');
    expect(verifyGitlabToken('secret-a', secrets)).toBeNull();
  });

  it('reads GitHub and GitLab pushes; branch deletions and tags are not pushes', () => {
    const sha = 'ab'.repeat(20);
    expect(pushOf({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'acme/a' } })).toEqual({
      repository: 'acme/a',
      branch: 'main',
      sha,
    });
    expect(pushOf({ ref: 'refs/heads/x', checkout_sha: sha, project: { path_with_namespace: 'g/p' } })).toEqual({
      repository: 'g/p',
      branch: 'x',
      sha,
    });
    expect(pushOf({ ref: 'refs/tags/v1', after: sha, repository: { full_name: 'acme/a' } })).toBeNull();
    expect(pushOf({ ref: 'refs/heads/main', after: '0'.repeat(40), repository: { full_name: 'a/b' } })).toBeNull();
  });
});

describe('held-out rows of the champion comparison', () => {
  const frame = {
    length: 3,
    columns: { x: Float64Array.from([1, 2, NaN]), c: ['a', null, 'b'], y: ['p', 'q', 'p'] },
  };

  it('finds the rows whose digest the champion does not hold', () => {
    const seen = rowHashSet(
      rowHashes({ length: 1, columns: { x: Float64Array.from([2]), c: [null], y: ['q'] } }, ['x', 'c', 'y'])
    );
    expect(unseenRows(frame, ['x', 'c', 'y'], seen)).toEqual([0, 2]);
    // Column boundaries count: ("a,b") is not ("a", "b").
    const a = rowHashes({ length: 1, columns: { p: ['a,b'], q: [''] } }, ['p', 'q']);
    const b = rowHashes({ length: 1, columns: { p: ['a'], q: ['b'] } }, ['p', 'q']);
    expect(a.equals(b)).toBe(false);
  });

  it('compares on the held-out rows and records them', () => {
    const gates = gatesSchema.parse({ maxRegression: 0.02 });
    const heldOut = {
      basis: 'unseen' as const,
      rows: 60,
      excludedRows: 120,
      challenger: { task: 'classification' as const, accuracy: 0.7 },
    };
    const champion = { task: 'classification' as const, accuracy: 0.68 };
    const g = evaluateGates(gates, { task: 'classification', accuracy: 0.65 }, champion, heldOut);
    expect(g.passed).toBe(true);
    expect(g.heldOut).toEqual({ basis: 'unseen', rows: 60, excludedRows: 120 });
    const refused = evaluateGates(
      gates,
      { task: 'classification', accuracy: 0.65 },
      { ...champion, accuracy: 0.9 },
      heldOut
    );
    expect(refused.reason).toBe(
      "accuracy 0.7 is more than 0.02 below the production model's 0.9 on 60 test row(s) neither model was trained on"
    );
  });
});

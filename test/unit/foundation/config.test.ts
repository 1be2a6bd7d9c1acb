import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, secretValues } from '../../../lib/config';
import { createLogger } from '../../../lib/telemetry/logger';

describe('loadConfig', () => {
  it('gives documented defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(cfg.MLOPS_API_PORT).toBe(8080);
    expect(cfg.queues).toEqual({ control: 'mlops-control', gpu: 'mlops-gpu', cpu: 'mlops-cpu' });
    expect(cfg.MLOPS_GPU_WORKERS).toBe(1);
    expect(path.isAbsolute(cfg.dataDir)).toBe(true);
    expect(cfg.MLOPS_ADMIN_TOKEN).toBeUndefined();
    expect(cfg.MLOPS_STACK_RESTART).toBe('always');
    expect(cfg.MLOPS_STACK_METRICS_PORT).toBe(9469);
    expect(cfg.MLOPS_DRIFT_SKETCH_BUCKET_S).toBe(60);
  });

  it('names every wrong variable and the expected form', () => {
    let error: unknown;
    try {
      loadConfig({ MLOPS_API_PORT: 'eighty', TEMPORAL_ADDRESS: 'nohost', MLOPS_GPU_QUEUE: 'bad queue' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/MLOPS_API_PORT="eighty": expected/);
    expect(message).toMatch(/TEMPORAL_ADDRESS="nohost": expected host:port/);
    expect(message).toMatch(/MLOPS_GPU_QUEUE="bad queue"/);
    expect(() => loadConfig({ MLOPS_STACK_RESTART: 'sometimes' })).toThrow(/MLOPS_STACK_RESTART="sometimes"/);
    expect(() => loadConfig({ MLOPS_DRIFT_SKETCH_BUCKET_S: '7' })).toThrow(/MLOPS_DRIFT_SKETCH_BUCKET_S="7".*3600/);
  });

  it('never echoes a secret, even a wrong one', () => {
    expect(() => loadConfig({ MLOPS_ADMIN_TOKEN: 'short-secret' })).toThrow(
      /MLOPS_ADMIN_TOKEN=<hidden>: expected at least 24/
    );
    expect(() => loadConfig({ MLOPS_ADMIN_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('redacts each git hook secret on its own, not only the whole list', () => {
    const cfg = loadConfig({
      MLOPS_GIT_HOOK_SECRETS: 'acme/penguins=first-secret-0123456789,acme/other=second-secret-0123456789',
    });
    expect(secretValues(cfg)).toEqual(
      expect.arrayContaining([cfg.MLOPS_GIT_HOOK_SECRETS, 'first-secret-0123456789', 'second-secret-0123456789'])
    );
    const lines: string[] = [];
    createLogger({ secrets: secretValues(cfg), write: (l) => lines.push(l) }).info('token second-secret-0123456789');
    expect(lines.join('\n')).not.toContain('second-secret');
  });

  it('reads secrets from *_FILE variants', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 'a-token-that-is-long-enough-1234\n');
    const cfg = loadConfig({ MLOPS_ADMIN_TOKEN_FILE: file });
    expect(cfg.MLOPS_ADMIN_TOKEN).toBe('a-token-that-is-long-enough-1234');
    expect(secretValues(cfg)).toContain('a-token-that-is-long-enough-1234');
    expect(() => loadConfig({ MLOPS_ADMIN_TOKEN_FILE: path.join(dir, 'missing') })).toThrow(
      /MLOPS_ADMIN_TOKEN_FILE: cannot read .* \(ENOENT\)/
    );
  });
});

describe('production mode', () => {
  it('refuses to generate an admin token', async () => {
    const { ensureAdminToken } = await import('../../../lib/auth/admin-token');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'prod-'));
    await expect(ensureAdminToken({ dataDir, MLOPS_ADMIN_TOKEN: undefined, MLOPS_ENV: 'production' })).rejects.toThrow(
      /MLOPS_ADMIN_TOKEN .* is required when MLOPS_ENV=production/
    );
  });
});

describe('MLOPS_INFERENCE_FAULTS', () => {
  it('is off by default and parses <model>@<version> faults', () => {
    expect(loadConfig({}).MLOPS_INFERENCE_FAULTS).toBeUndefined();
    expect(
      loadConfig({ MLOPS_INFERENCE_FAULTS: '{"penguins@5":{"errorRate":0.3,"delayMs":40},"a.b@2":{}}' })
        .MLOPS_INFERENCE_FAULTS
    ).toEqual({
      'penguins@5': { errorRate: 0.3, delayMs: 40 },
      'a.b@2': { errorRate: 0, delayMs: 0 },
    });
  });

  it('refuses bad JSON, keys and fields', () => {
    expect(() => loadConfig({ MLOPS_INFERENCE_FAULTS: '{penguins' })).toThrow(/MLOPS_INFERENCE_FAULTS=.*expected JSON/);
    expect(() => loadConfig({ MLOPS_INFERENCE_FAULTS: '{"penguins":{}}' })).toThrow(/<model>@<version> keys/);
    expect(() => loadConfig({ MLOPS_INFERENCE_FAULTS: '{"penguins@1":{"errorRate":2}}' })).toThrow(
      /MLOPS_INFERENCE_FAULTS/
    );
    expect(() => loadConfig({ MLOPS_INFERENCE_FAULTS: '{"penguins@1":{"crash":true}}' })).toThrow(
      /MLOPS_INFERENCE_FAULTS/
    );
  });
});

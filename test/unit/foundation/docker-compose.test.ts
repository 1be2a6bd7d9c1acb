// The compose file is for users with Docker; there is no engine here. The structure is
// checked always, and `docker compose config -q` runs wherever the compose plugin exists.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');
const file = path.join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number; resources?: { reservations?: { devices?: { capabilities: string[] }[] } } };
  environment?: Record<string, string>;
  read_only?: boolean;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;

  it('has every component of the production layout', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'control-worker',
        'cpu-worker',
        'gpu-worker',
        'inference',
        'mongodb',
        'postgresql',
        'temporal',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
      ].sort()
    );
    expect(services.mongodb.image).toBe('mongo:7');
  });

  it('gates every app service on healthy dependencies', () => {
    for (const name of ['api', 'inference', 'control-worker', 'gpu-worker', 'cpu-worker']) {
      expect(services[name].depends_on?.mongodb.condition).toBe('service_healthy');
      expect(services[name].depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
    }
    for (const name of ['postgresql', 'temporal', 'mongodb', 'api', 'inference'])
      expect(services[name].healthcheck).toBeDefined();
  });

  it('reserves a GPU for the GPU fleet and scales the CPU fleet by replicas', () => {
    expect(services['gpu-worker'].deploy?.resources?.reservations?.devices?.[0].capabilities).toContain('gpu');
    expect(services['cpu-worker'].deploy?.replicas).toBeGreaterThan(1);
    expect(services['gpu-worker'].build).toEqual({ context: '.', target: 'app-gpu' });
  });

  it('runs the compiled build on a read-only root, and Temporal without auto-setup', () => {
    const entry: Record<string, string> = {
      api: 'dist/api/server.js',
      inference: 'dist/serving/main.js',
      'control-worker': 'dist/workers/control.js',
      'gpu-worker': 'dist/workers/gpu.js',
      'cpu-worker': 'dist/workers/cpu.js',
    };
    for (const [name, file] of Object.entries(entry)) {
      expect(services[name].command?.slice(0, 2)).toEqual(['node', file]);
      expect(services[name].read_only).toBe(true);
      expect(services[name].environment?.MLOPS_ENV).toBe('production');
    }
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(services.temporal.depends_on?.['temporal-schema'].condition).toBe('service_completed_successfully');
    expect(JSON.stringify(services['temporal-schema'])).toContain('update-schema');
    expect(services.inference.deploy?.replicas).toBeGreaterThan(1);
  });

  it('requires an admin token instead of shipping a default', () => {
    expect(services.api.environment?.MLOPS_ADMIN_TOKEN).toMatch(/^\$\{MLOPS_ADMIN_TOKEN:\?/);
  });

  // Always registered; it says so where the plugin is missing (the development machines).
  it('passes `docker compose config -q`', () => {
    if (spawnSync('docker', ['compose', 'version']).status !== 0) {
      console.log('skipped: no docker compose plugin');
      return;
    }
    const res = spawnSync('docker', ['compose', '-f', file, 'config', '-q'], {
      env: { ...process.env, MLOPS_ADMIN_TOKEN: 'x'.repeat(32) },
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});

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
        'mongodb',
        'postgresql',
        'temporal',
        'temporal-setup',
        'temporal-ui',
      ].sort()
    );
    expect(services.mongodb.image).toBe('mongo:7');
  });

  it('gates every app service on healthy dependencies', () => {
    for (const name of ['api', 'control-worker', 'gpu-worker', 'cpu-worker']) {
      expect(services[name].depends_on?.mongodb.condition).toBe('service_healthy');
      expect(services[name].depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
    }
    for (const name of ['postgresql', 'temporal', 'mongodb', 'api']) expect(services[name].healthcheck).toBeDefined();
  });

  it('reserves a GPU for the GPU fleet and scales the CPU fleet by replicas', () => {
    expect(services['gpu-worker'].deploy?.resources?.reservations?.devices?.[0].capabilities).toContain('gpu');
    expect(services['cpu-worker'].deploy?.replicas).toBeGreaterThan(1);
    expect(services['gpu-worker'].command).toEqual(['node', '--import', 'tsx', 'workers/gpu.ts']);
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

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { temporalTls } from '../../../lib/temporal/connection';

describe('Temporal TLS options', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-'));
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const cert = file('client.pem', 'CERT');
  const key = file('client.key', 'KEY');
  const ca = file('ca.pem', 'CA');

  it('is plaintext unless a TLS file is set', () => {
    expect(temporalTls(loadConfig({}))).toBeUndefined();
  });

  it('passes the mTLS pair, CA and server name through', () => {
    const tls = temporalTls(
      loadConfig({
        TEMPORAL_TLS_CERT_FILE: cert,
        TEMPORAL_TLS_KEY_FILE: key,
        TEMPORAL_TLS_CA_FILE: ca,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      })
    );
    expect(tls?.clientCertPair?.crt.toString()).toBe('CERT');
    expect(tls?.clientCertPair?.key.toString()).toBe('KEY');
    expect(tls?.serverRootCACertificate?.toString()).toBe('CA');
    expect(tls?.serverNameOverride).toBe('temporal.internal');
  });

  it('names the variable when the pair is half set or a file is missing', () => {
    expect(() => temporalTls(loadConfig({ TEMPORAL_TLS_CERT_FILE: cert }))).toThrow(/set both/);
    expect(() => temporalTls(loadConfig({ TEMPORAL_TLS_CA_FILE: path.join(dir, 'nope.pem') }))).toThrow(
      /TEMPORAL_TLS_CA_FILE: cannot read .*ENOENT/
    );
  });
});

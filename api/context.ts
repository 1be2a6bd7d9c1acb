// What route modules get from the app: configuration, the store, Temporal, logging,
// metrics, the token cache and an audit helper that fills in actor and request id.
import type { Request, Response } from 'express';
import type { Db } from 'mongodb';
import type { Config } from '../lib/config';
import type { Store } from '../lib/store/db';
import { appendAudit, type AuditInput } from '../lib/store/audit';
import type { Principal, TokenCache } from './auth';
import type { Logger } from '../lib/telemetry/logger';
import type { ApiMetrics } from './metrics';
import type { TemporalGateway } from './temporal';

export interface ApiContext {
  cfg: Config;
  store: Store;
  db: Db;
  temporal: TemporalGateway;
  log: Logger;
  metrics: ApiMetrics;
  tokenCache: TokenCache;
  /** Appends an audit entry for this request; failures are logged, never shown to the client. */
  audit(req: Request, res: Response, entry: Omit<AuditInput, 'actor' | 'requestId' | 'ip'>): Promise<void>;
}

export function makeAudit(store: Pick<Store, 'db' | 'keyring'>, log: Logger): ApiContext['audit'] {
  return async (req, res, entry) => {
    const p = res.locals.principal as Principal | undefined;
    try {
      await appendAudit(store, {
        ...entry,
        actor: p ? { tokenId: p.tokenId, subject: p.subject, role: p.role } : null,
        requestId: res.locals.requestId as string,
        ip: req.ip,
      });
    } catch (err) {
      log.error('audit append failed', {
        requestId: res.locals.requestId,
        action: entry.action,
        object: entry.object,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };
}

// Access to Temporal for the API. The API starts even when Temporal is down: the gateway
// connects on first use and again after a failure, /readyz reports it, and routes that
// need Temporal answer 503 until it is back.
import type { Client } from '@temporalio/client';
import { problems } from './errors';

export interface TemporalGateway {
  /** A connected client, or a 503 problem when Temporal cannot be reached. */
  client(): Promise<Client>;
  /** True while the frontend answers a health check. */
  isReachable(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export function gatewayFromClient(client: Client): TemporalGateway {
  return gatewayFromFactory(async () => client, false);
}

/**
 * @param ownsConnection close the connection in close() (true when the factory made it).
 */
export function gatewayFromFactory(connect: () => Promise<Client>, ownsConnection = true): TemporalGateway {
  let pending: Promise<Client> | undefined;
  const get = (): Promise<Client> => {
    if (!pending) {
      pending = connect().catch((err) => {
        pending = undefined;
        throw err;
      });
    }
    return pending;
  };
  return {
    async client() {
      try {
        return await get();
      } catch {
        throw problems.unavailable(
          'Temporal is unreachable; the run cannot be started or queried now. Retry shortly.',
          {
            extra: { cause: 'temporal' },
            headers: { 'Retry-After': '5' },
          }
        );
      }
    },
    async isReachable(timeoutMs = 2_000) {
      try {
        const client = await withTimeout(get(), timeoutMs);
        await withTimeout(client.workflowService.getSystemInfo({}), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (!ownsConnection || !pending) return;
      const client = await pending.catch(() => undefined);
      await client?.connection.close().catch(() => undefined);
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

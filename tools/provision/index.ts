// Provisions the embedded stack's tools into the tools folder, idempotently.
import { ensureFerretdb } from './ferretdb';
import { Log } from './run-command';
import { ensureTemporalCli } from './temporal-cli';

export interface Tools {
  temporal: string;
  ferretdb: string;
}

export async function provisionTools(toolsDir: string, log: Log): Promise<Tools> {
  const temporal = await ensureTemporalCli(toolsDir, log);
  const ferretdb = await ensureFerretdb(toolsDir, log);
  return { temporal, ferretdb };
}

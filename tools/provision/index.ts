// Provisions the embedded stack's tools into the tools folder, idempotently.
import { ensureFerretdb } from './ferretdb';
import { Log } from './run-command';
import { ensureTemporalCli, Route } from './temporal-cli';

export interface Tools {
  temporal: string;
  ferretdb: string;
}

export async function provisionTools(
  cfg: { toolsDir: string; MLOPS_TEMPORAL_CLI_ROUTE: Route },
  log: Log
): Promise<Tools> {
  const { toolsDir } = cfg;
  const temporal = await ensureTemporalCli(toolsDir, cfg.MLOPS_TEMPORAL_CLI_ROUTE, log);
  const ferretdb = await ensureFerretdb(toolsDir, log);
  return { temporal, ferretdb };
}

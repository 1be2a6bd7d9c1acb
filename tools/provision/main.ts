// `npm run provision`: builds or finds the Temporal CLI and the FerretDB launcher.
// --quiet prints only progress of real work (used by `npm test`).
import { ConfigError, loadConfig } from '../../lib/config';
import { provisionTools } from './index';
import { ProvisionError } from './run-command';

async function main(): Promise<void> {
  const quiet = process.argv.includes('--quiet');
  const started = Date.now();
  const cfg = loadConfig();
  const tools = await provisionTools(cfg, (line) => console.log(`[provision] ${line}`));
  if (!quiet) {
    console.log(`[provision] temporal: ${tools.temporal}`);
    console.log(`[provision] ferretdb: ${tools.ferretdb}`);
    console.log(`[provision] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().catch((err) => {
  const known = err instanceof ProvisionError || err instanceof ConfigError;
  console.error(known ? `[provision] ${err.message}` : err);
  process.exit(1);
});

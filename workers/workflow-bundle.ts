// Bundling options every control worker needs, also when workflows are bundled ahead of time
// (tests, benchmarks, `npm run build`): Worker.create ignores interceptor modules given beside a
// prebuilt bundle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../lib/temporal/connection';

export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/interceptors')];

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

/** The bundled code of `workflowsPath` (default: workflows/) with our interceptors and failure converter. */
export async function bundleWorkflows(workflowsPath = require.resolve('../workflows')): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: quiet,
  });
  return code;
}

/**
 * Where `npm run build` writes the bundle: dist/workflows.bundle.js, beside the compiled workers/.
 * Running from the sources (tsx) there is none, so development always bundles the current code.
 */
export const PREBUILT_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflows.bundle.js');

/** The build's bundle when this process runs from dist/ (no webpack at start-up), else undefined. */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  return existsSync(PREBUILT_BUNDLE_PATH) ? { codePath: PREBUILT_BUNDLE_PATH } : undefined;
}

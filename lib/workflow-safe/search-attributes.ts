// Custom search attributes: Temporal UI filters runs by model and stage, and rollouts by state, with these.
// Pure definitions, safe to import from workflow code; the embedded stack and the test
// harness register them on the dev server with `--search-attribute NAME=TYPE`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const MODEL_NAME = defineSearchAttributeKey('MlopsModel', SearchAttributeType.KEYWORD);
export const STAGE = defineSearchAttributeKey('MlopsStage', SearchAttributeType.KEYWORD);
export const RUN_STATUS = defineSearchAttributeKey('MlopsStatus', SearchAttributeType.KEYWORD);
/** A rollout's state (progressing, paused, succeeded, rolled_back, aborted, failed). */
export const DEPLOY_STATE = defineSearchAttributeKey('MlopsDeployState', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [MODEL_NAME, STAGE, RUN_STATUS, DEPLOY_STATE];

/** The `--search-attribute` arguments of `temporal server start-dev`. */
export function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

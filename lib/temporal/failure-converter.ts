// Loaded by path (DataConverter.failureConverterPath) in clients, workers and the workflow
// bundle: failure messages and stack traces travel as encoded payloads, so the payload
// codec encrypts them too.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

// The batch input's own error: a file that cannot be scored as given (missing column, broken
// quoting, empty). Activities turn it into a non-retryable failure; retrying cannot fix the file.
import { markErrorClass } from '../workflow-safe/typed-error';

export class BatchInputError extends Error {}
markErrorClass(BatchInputError, 'BatchInputError');

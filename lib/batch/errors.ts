// The batch input's own error: a file that cannot be scored as given (missing column, broken
// quoting, empty). Activities turn it into a non-retryable failure; retrying cannot fix the file.
export class BatchInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchInputError';
  }
}

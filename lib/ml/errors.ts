/**
 * Bad input the user must fix (one class, non-finite after preprocessing, model too large, diverging
 * loss). The message says what to change. The pipeline maps it to a non-retryable failure; anything
 * else thrown from lib/ml is a bug or a transient fault and may be retried.
 */
export class MlInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlInputError';
  }
}

// The ML code's error types: what the user must fix, told apart by type (markErrorClass), not text.
import { markErrorClass } from '../workflow-safe/typed-error';

/**
 * Bad input the user must fix (one class, non-finite after preprocessing, model too large, diverging
 * loss). The message says what to change. The pipeline maps it to a non-retryable failure; anything
 * else thrown from lib/ml is a bug or a transient fault and may be retried.
 */
export class MlInputError extends Error {}
markErrorClass(MlInputError, 'MlInputError');

/**
 * A checkpoint made for another spec or data shape than this training: the train activity starts
 * over without it (the type, not the message, says so). Still bad input wherever else it surfaces.
 */
export class CheckpointMismatchError extends MlInputError {
  constructor() {
    super('the checkpoint was made for a different spec or dataset; start without it');
  }
}
markErrorClass(CheckpointMismatchError, 'CheckpointMismatchError');

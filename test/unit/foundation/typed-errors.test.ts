// Typed errors are recognised by type in every realm and copy of their module (markErrorClass),
// so no caller needs to match their names or message text: the workflow sandbox and each jest
// test file load their own copies of lib/, and a plain class check fails across them.
import { ApplicationFailure } from '@temporalio/common';
import { classify } from '../../../activities/common';
import { CheckpointMismatchError, MlInputError } from '../../../lib/ml/errors';
import { ModelFormatError } from '../../../lib/ml/model-format';
import { FAILURE } from '../../../lib/workflow-safe/failures';

/** A second, separately loaded copy of lib/ml/errors (as the sandbox or another realm has). */
function otherCopy(): typeof import('../../../lib/ml/errors') {
  let mod!: typeof import('../../../lib/ml/errors');
  jest.isolateModules(() => {
    mod = require('../../../lib/ml/errors');
  });
  expect(mod.MlInputError).not.toBe(MlInputError);
  return mod;
}

describe('markErrorClass', () => {
  it('recognises an error thrown by another copy of its class', () => {
    const other = otherCopy();
    expect(new other.MlInputError('x')).toBeInstanceOf(MlInputError);
    expect(new other.CheckpointMismatchError()).toBeInstanceOf(CheckpointMismatchError);
    expect(new other.CheckpointMismatchError()).toBeInstanceOf(MlInputError);
  });

  it('keeps subclasses apart from their parent and from plain errors', () => {
    const other = otherCopy();
    expect(new other.MlInputError('x')).not.toBeInstanceOf(CheckpointMismatchError);
    expect(new MlInputError('x')).not.toBeInstanceOf(ModelFormatError);
    expect(new ModelFormatError('x', 'pickle')).toBeInstanceOf(MlInputError);
    const lookalike = Object.assign(new Error('x'), { name: 'MlInputError' });
    expect(lookalike).not.toBeInstanceOf(MlInputError);
    expect(null).not.toBeInstanceOf(MlInputError);
  });

  it('names instances after their class', () => {
    expect(new MlInputError('x').name).toBe('MlInputError');
    expect(new CheckpointMismatchError().name).toBe('CheckpointMismatchError');
    expect(String(new CheckpointMismatchError())).toMatch(/^CheckpointMismatchError: the checkpoint was made/);
  });

  it("lets classify() turn another copy's bad-input error into a non-retryable failure", () => {
    const failure = classify(new (otherCopy().MlInputError)('one class only'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: FAILURE.MlInputError, nonRetryable: true, message: 'one class only' });
  });
});

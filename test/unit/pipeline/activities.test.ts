import { ApplicationFailure } from '@temporalio/common';
import { classify } from '../../../activities/common';
import { NON_RETRYABLE_TYPES } from '../../../lib/workflow-safe/failures';
import { trainSpecFor } from '../../../activities/train';
import { DatasetPathError, DatasetReadError } from '../../../lib/ml/dataset';
import { MlInputError } from '../../../lib/ml/errors';
import { parseRunSpec } from '../../../lib/spec';
import { ArtifactIntegrityError } from '../../../lib/store/artifacts';

describe('error classification', () => {
  it.each([
    [new DatasetReadError('line 3 ...'), 'DatasetError'],
    [new DatasetPathError('outside the root'), 'DatasetError'],
    [new MlInputError('one class'), 'MlInputError'],
    [new ArtifactIntegrityError('artifact://sha256/x', 'bad'), 'ArtifactIntegrityError'],
  ])('%s is non-retryable %s', (err, type) => {
    const f = classify(err) as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f).toMatchObject({ type, nonRetryable: true, message: err.message });
    expect(NON_RETRYABLE_TYPES).toContain(type);
  });

  it('leaves other errors retryable', () => {
    const e = new Error('connection reset');
    expect(classify(e)).toBe(e);
  });
});

describe('trainer spec mapping', () => {
  it('maps the run spec trainer section onto the trainer', () => {
    const spec = parseRunSpec({
      model: 'm',
      dataset: { name: 'penguins' },
      target: 'species',
      trainer: { model: 'linear' },
    });
    const t = trainSpecFor({ spec, task: 'classification', features: [{ name: 'island', type: 'categorical' }] }, 512);
    expect(t).toMatchObject({
      task: 'classification',
      target: 'species',
      model: { kind: 'linear' },
      epochs: 60,
      batchSize: 32,
      seed: 42,
      memoryLimitMb: 512,
      features: [{ name: 'island', type: 'categorical' }],
    });
  });
});

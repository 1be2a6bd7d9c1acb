// Every failure type the code throws comes from lib/workflow-safe/failures.ts, so the retry
// policies (which all name that list) can never miss one. A string literal as a failure type is
// how the old lists drifted apart (classify() emitted RegionMismatch, which no list named), so the
// source is parsed and any literal type in an ApplicationFailure call fails this test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { FAILURE, NON_RETRYABLE_TYPES, retryPolicy } from '../../../lib/workflow-safe/failures';
import { ROOT, sourceFiles } from './source-files';

/** `file:line type` for each failure type written as a string literal in an ApplicationFailure call. */
function literalFailureTypes(file: string, text = readFileSync(file, 'utf8')): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const at = (n: ts.Node, type: string) =>
    found.push(`${path.relative(ROOT, file)}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1} '${type}'`);
  const visit = (n: ts.Node): void => {
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      n.expression.expression.getText(src) === 'ApplicationFailure'
    ) {
      const method = n.expression.name.text;
      if (method === 'create' && n.arguments[0] && ts.isObjectLiteralExpression(n.arguments[0])) {
        for (const prop of n.arguments[0].properties) {
          if (
            ts.isPropertyAssignment(prop) &&
            prop.name.getText(src) === 'type' &&
            ts.isStringLiteral(prop.initializer)
          )
            at(prop, prop.initializer.text);
        }
      }
      if ((method === 'nonRetryable' || method === 'retryable') && n.arguments[1] && ts.isStringLiteral(n.arguments[1]))
        at(n, n.arguments[1].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

describe('failure types', () => {
  it('are all named through FAILURE, never as string literals', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => literalFailureTypes(f))).toEqual([]);
  });

  it('are all in the retry policy every workflow uses', () => {
    const policy = retryPolicy('1 second', 3);
    expect(policy.nonRetryableErrorTypes).toEqual([...NON_RETRYABLE_TYPES]);
    for (const type of Object.values(FAILURE)) expect(policy.nonRetryableErrorTypes).toContain(type);
  });

  it('finds a literal type when one is written', () => {
    const code = [
      "throw ApplicationFailure.nonRetryable('bad', 'ProbeA');",
      "throw ApplicationFailure.create({ message: 'bad', type: 'ProbeB', nonRetryable: true });",
      "throw ApplicationFailure.create({ message: 'fine', type: FAILURE.MlInputError, nonRetryable: true });",
    ].join('\n');
    expect(literalFailureTypes(path.join(ROOT, 'probe.ts'), code)).toEqual([
      "probe.ts:1 'ProbeA'",
      "probe.ts:2 'ProbeB'",
    ]);
  });
});

// Every status vocabulary is written once, in lib/workflow-safe (statuses, rollout overrides), and
// imported everywhere else; so are the ML toolkit's task and column kinds (lib/ml/types). The copies that drifted (the CLI's terminal batch and rollout states,
// the materialization status as a type and again as a route enum) were lists of the same string
// literals, so the source is parsed and any array or union of string literals that spells one of
// the vocabularies again fails this test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as mlTypes from '../../../lib/ml/types';
import * as overrides from '../../../lib/workflow-safe/deploy-override';
import * as statuses from '../../../lib/workflow-safe/statuses';
import { ROOT, sourceFiles } from './source-files';

const HOMES = ['lib/workflow-safe/statuses.ts', 'lib/workflow-safe/deploy-override.ts', 'lib/ml/types.ts'];

/** name -> the vocabulary's members, sorted (a copy may list them in another order). */
const VOCABULARIES = new Map(
  Object.entries({ ...statuses, ...overrides, ...mlTypes } as Record<string, unknown>)
    .filter((e): e is [string, string[]] => Array.isArray(e[1]))
    .map(([name, list]) => [[...list].sort().join(','), name])
);

/** `file:line NAME` for each array or union of string literals that repeats a vocabulary. */
function copies(file: string, text = readFileSync(file, 'utf8')): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const check = (n: ts.Node, members: readonly ts.Node[]) => {
    const strings = members.flatMap((m) =>
      ts.isStringLiteral(m)
        ? [m.text]
        : ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal)
          ? [m.literal.text]
          : []
    );
    if (strings.length < 2 || strings.length !== members.length) return;
    const name = VOCABULARIES.get([...strings].sort().join(','));
    if (name)
      found.push(`${path.relative(ROOT, file)}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1} ${name}`);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isArrayLiteralExpression(n)) check(n, n.elements);
    if (ts.isUnionTypeNode(n)) check(n, n.types);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

describe('status vocabularies', () => {
  it('are defined once', () => {
    expect(VOCABULARIES.size).toBeGreaterThanOrEqual(11);
    const files = sourceFiles().filter((f) => !HOMES.includes(path.relative(ROOT, f)));
    expect(files.flatMap((f) => copies(f))).toEqual([]);
  });

  it('end in states of their own vocabulary', () => {
    for (const [ended, all] of [
      [statuses.TERMINAL_STATUSES, statuses.RUN_STATUSES],
      [statuses.BATCH_TERMINAL, statuses.BATCH_STATUSES],
      [statuses.DEPLOYMENT_ENDED, statuses.DEPLOYMENT_STATES],
    ] as const)
      for (const s of ended) expect(all).toContain(s);
  });

  it('finds a copy when one is written, in any order', () => {
    const code = [
      "const TERMINAL = ['failed', 'succeeded', 'cancelled'];",
      "type S = 'running' | 'succeeded' | 'failed';",
      "const DEPLOYABLE = ['approved', 'promoted'];",
    ].join('\n');
    expect(copies(path.join(ROOT, 'probe.ts'), code)).toEqual([
      'probe.ts:1 BATCH_TERMINAL',
      'probe.ts:2 MATERIALIZATION_STATUSES',
    ]);
  });
});

// Whether a candidate can answer the callers stable answers now: every input the candidate's graph
// needs must be one stable takes, with the same type. A candidate trained with an extra column
// answers those callers 400, and 4xx answers are the caller's fault to serving_stats, so the gates
// would see no candidate requests at all and wait on forever; the rollout refuses it up front.

/** One input of a model's protocol view (serving/protocol.ts ModelSchema.inputs). */
export interface ModelInput {
  name: string;
  datatype: string;
}

/** The candidate's inputs stable's callers cannot feed, each with why ("missing" or the type change). */
export function inputMismatches(stable: readonly ModelInput[], candidate: readonly ModelInput[]): string[] {
  const stableTypes = new Map(stable.map((i) => [i.name, i.datatype]));
  return candidate.flatMap((i) => {
    const had = stableTypes.get(i.name);
    if (had === undefined) return [`'${i.name}' (${i.datatype}; stable does not take it)`];
    if (had !== i.datatype) return [`'${i.name}' (${i.datatype}; stable takes ${had})`];
    return [];
  });
}

// The `deploy` block of a run spec (and the body of POST /v1/deployments): how an approved
// version reaches production. One schema for the API, the CLI, the pipeline and the rollout
// workflow; docs/deployments.md documents every field and default, keep the two in step.
//   canary:     the candidate takes `steps` percent of callers in turn; each step bakes, then its
//               gates compare the candidate with stable; 100 moves `production`.
//   blue-green: the candidate is loaded warm, then takes 100% at once; the old version stays
//               warm for `rollbackWindow` and takes traffic back if a gate fails within it.
//   shadow:     the candidate answers a mirrored copy of live traffic (never seen by a client);
//               promotion needs a human.
import { z } from 'zod';
import { durationField } from './duration-field';

export const DEPLOY_STRATEGIES = ['canary', 'blue-green', 'shadow'] as const;
export type DeployStrategy = (typeof DEPLOY_STRATEGIES)[number];

export const deployGatesSchema = z
  .object({
    /** Largest share of the candidate's answers that may fail (5xx) in a step's window. */
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    /** Largest p99 latency (ms, from the servers' histogram) the candidate may show. */
    maxP99Ms: z.number().positive().max(60_000).default(500),
    /** Largest Jensen-Shannon divergence (base 2, 0..1) between the candidate's and stable's predictions. */
    maxPredictionShift: z.number().min(0).max(1).default(0.2),
    /** Fewest candidate requests a window needs before its gates decide anything (fewer = inconclusive). */
    minRequests: z.number().int().min(1).max(10_000_000).default(200),
  })
  .strict();

export const deploySchema = z
  .object({
    strategy: z.enum(DEPLOY_STRATEGIES).default('canary'),
    /** Canary: percent of callers per step, increasing, ending at 100. */
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .max(20)
      .default([5, 25, 50, 100])
      .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!) && s[s.length - 1] === 100, {
        message: 'steps must increase and end at 100, e.g. [5, 25, 50, 100]',
      }),
    /** How long each step (canary) or the mirror (shadow) runs before its gates decide. */
    bake: durationField('10m', 1_000, 7 * 86_400_000),
    /** How often the gates are evaluated during a bake: a failure rolls back at once, a pass waits for the bake. */
    checkEvery: durationField('10s', 200, 3_600_000),
    gates: deployGatesSchema.default({}),
    /** How long past the bake a step may stay inconclusive (too few requests) before it pauses for a human. */
    inconclusiveAfter: durationField('30m', 0, 7 * 86_400_000),
    /** Blue-green: how long the old version stays warm and takes traffic back on a failed gate. */
    rollbackWindow: durationField('10m', 1_000, 7 * 86_400_000),
    /** How long to wait for every live inference server to load the candidate and apply a split. */
    serverTimeout: durationField('2m', 1_000, 3_600_000),
  })
  .strict();

/** What a user writes (defaults optional). */
export type DeploySpecInput = z.input<typeof deploySchema>;
/** A validated deploy block; every duration is in milliseconds. */
export type DeploySpec = z.output<typeof deploySchema>;
export type DeployGates = DeploySpec['gates'];

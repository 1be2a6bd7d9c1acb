// /healthz (process up), /readyz (Temporal and MongoDB reachable), /metrics and
// /openapi.json. Only /healthz and /readyz answer without a token.
import { isReachable } from '../../lib/store/db';
import type { ApiContext } from '../context';
import { problems, sendProblem } from '../errors';
import { z } from 'zod';
import { defineRoute, type RouteDef } from '../route';
import { withTimeout } from '../temporal';
import { problemResponses } from './schemas';

const checksSchema = z.record(z.enum(['ok', 'unreachable'])).describe('Temporal and MongoDB, each ok or unreachable');

export function systemRoutes(ctx: ApiContext, openapi: () => unknown): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness: the process is up',
      tag: 'system',
      permission: null,
      responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
      handler(_input, _req, res) {
        res.json({ status: 'ok' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readyz',
      summary: 'Readiness: 200 only while Temporal and MongoDB are both reachable',
      tag: 'system',
      permission: null,
      responses: {
        200: {
          description: 'Ready',
          schema: z.object({ status: z.literal('ready'), checks: checksSchema }),
        },
        503: {
          ...problemResponses(503)[503],
          description: 'Not ready; `checks` and `detail` name what is unreachable',
        },
      },
      async handler(_input, _req, res) {
        const [temporal, mongodb] = await Promise.all([
          ctx.temporal.isReachable(2_000),
          withTimeout(isReachable(ctx.store), 2_000).catch(() => false),
        ]);
        const checks = { temporal: temporal ? 'ok' : 'unreachable', mongodb: mongodb ? 'ok' : 'unreachable' };
        if (temporal && mongodb) {
          res.json({ status: 'ready', checks });
          return;
        }
        const missing = [!temporal && 'Temporal', !mongodb && 'MongoDB'].filter(Boolean).join(' and ');
        res.setHeader('Retry-After', '5');
        sendProblem(
          res,
          problems.notReady(`${missing} ${missing.includes(' and ') ? 'are' : 'is'} unreachable.`, {
            extra: { checks },
          }).problem
        );
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'system',
      permission: 'read',
      responses: {
        200: { description: 'Metrics', contentType: 'text/plain; version=0.0.4', schema: z.string() },
      },
      async handler(_input, _req, res) {
        const text = await ctx.metrics.registry.metrics();
        res.setHeader('Content-Type', ctx.metrics.registry.contentType);
        res.end(text);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'system',
      permission: 'read',
      responses: { 200: { description: 'The document', schema: z.record(z.unknown()) } },
      handler(_input, _req, res) {
        res.json(openapi());
      },
    }),
  ];
}

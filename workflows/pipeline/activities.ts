// The pipeline's activity proxies, one per kind of work, each with its queue, timeouts and retry
// policy: control-plane writes, CPU data work, GPU training, CPU evaluation, and history writes as
// local activities. Changing an option here changes what new runs schedule (not replay).
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { ControlActivities, CpuActivities, GpuActivities } from '../../activities';
import { retryPolicy } from '../../lib/workflow-safe/failures';
import type { PipelineInput } from './types';

export function pipelineActivities(input: PipelineInput) {
  const first = input.options?.retryInitialInterval ?? '1 second';
  const control: ActivityOptions = {
    taskQueue: input.queues.control,
    scheduleToStartTimeout: '1 hour',
    startToCloseTimeout: '1 minute',
    retry: retryPolicy(first, 10, '30 seconds'),
  };
  const data: ActivityOptions = {
    taskQueue: input.queues.cpu,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: retryPolicy(first, 5),
  };
  const train: ActivityOptions = {
    taskQueue: input.queues.gpu,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: input.options?.trainHeartbeatTimeout ?? '1 minute',
    retry: retryPolicy(first, 5),
  };
  const evaluate: ActivityOptions = {
    taskQueue: input.queues.cpu,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '5 minutes',
    retry: retryPolicy(first, 5),
  };
  // History writes (run document, workflow-level events) are short idempotent upserts: they run as
  // local activities in the control worker, which saves a server round trip per write.
  const history: LocalActivityOptions = {
    startToCloseTimeout: '30 seconds',
    retry: retryPolicy(first, 10, '30 seconds'),
  };
  return {
    control: proxyActivities<ControlActivities>(control),
    history: proxyLocalActivities<ControlActivities>(history),
    data: proxyActivities<CpuActivities>(data),
    gpu: proxyActivities<GpuActivities>(train),
    evaluate: proxyActivities<CpuActivities>(evaluate),
  };
}

export type PipelineActivities = ReturnType<typeof pipelineActivities>;

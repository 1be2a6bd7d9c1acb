// `mlops batch`: start a batch prediction (and watch it with a progress bar and rows/s), show it,
// download its output or errors (streamed to a file or stdout), cancel it.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from './config';
import { bar } from './format';
import { need, number, str, type Ctx } from './main';
import type { BatchJson, StartedBatchJson } from './api-types';
import { BATCH_TERMINAL } from '../lib/workflow-safe/statuses';

function progressLine(b: BatchJson): string {
  const p = b.progress;
  const total = p.rowsTotal ?? '?';
  const rate = p.rowsPerSec ? ` ${Math.round(p.rowsPerSec).toLocaleString('en-US')} rows/s` : '';
  const failed = p.rowsFailed ? ` (${p.rowsFailed} bad)` : '';
  return `${b.stage.padEnd(10)} ${bar(p.fraction ?? 0)} ${p.rowsDone ?? 0}/${total} rows${rate}${failed}`;
}

function showBatch(b: BatchJson): string {
  const lines = [
    `batch:    ${b.batchId}`,
    `model:    ${b.model} v${b.version ?? '?'} (${b.requested?.alias ? `alias ${b.requested.alias}` : 'pinned'})`,
    `input:    ${b.input?.path}${b.input?.rows !== undefined ? ` (${b.input.rows} rows)` : ''}`,
    `status:   ${b.status}`,
    `progress: ${progressLine(b)}`,
  ];
  if (b.output) lines.push(`output:   ${b.output.uri} (mlops batch download ${b.batchId})`);
  if (b.error) lines.push(`error:    ${b.error.message}`);
  return lines.join('\n');
}

async function watchBatch(ctx: Ctx, batchId: string): Promise<number> {
  const { http, io } = ctx;
  const interval = Math.max(0.2, Number(str(ctx.flags.interval) ?? '1')) * 1000;
  const sleep = io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let last = '';
  for (;;) {
    const b = (await http.request<BatchJson>('GET', `/v1/batch-predictions/${encodeURIComponent(batchId)}`)).body;
    const line = progressLine(b);
    if (ctx.json) {
      if (line !== last) io.stdout(JSON.stringify({ batchId, status: b.status, stage: b.stage, ...b.progress }) + '\n');
    } else if (io.isTTY) {
      if (line !== last) io.stdout(`\r\x1b[2K${line}`);
    } else if (line !== last) io.stdout(line + '\n');
    last = line;
    if (BATCH_TERMINAL.includes(b.status)) {
      if (!ctx.json)
        io.stdout((io.isTTY ? '\n' : '') + `${batchId} ${b.status}${b.error ? `: ${b.error.message}` : ''}\n`);
      return b.status === 'succeeded' ? 0 : 3;
    }
    await sleep(interval);
  }
}

export async function batch(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  switch (command) {
    case 'start': {
      need(args, 0, 'batch start --model M --input FILE.csv');
      const model = str(flags.model);
      const input = str(flags.input);
      if (!model || !input) throw new UsageError('give --model and --input (a CSV path under the datasets root)');
      const version = number(flags.version, 'version');
      const body = {
        model,
        input,
        ...(version !== undefined ? { version } : {}),
        ...(str(flags.alias) ? { alias: str(flags.alias) } : {}),
        ...(str(flags.format) ? { format: str(flags.format) } : {}),
        ...(str(flags['id-column']) ? { idColumn: str(flags['id-column']) } : {}),
        ...(flags['max-error-rate'] !== undefined
          ? { maxErrorRate: number(flags['max-error-rate'], 'max-error-rate') }
          : {}),
      };
      const key = str(flags['idempotency-key']);
      const res = await http.request<StartedBatchJson>('POST', '/v1/batch-predictions', {
        body,
        headers: key ? { 'Idempotency-Key': key } : undefined,
      });
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      ctx.out({ ...res.body, replayed }, () => `${replayed ? 'already started' : 'started'} ${res.body.batchId}`);
      if (flags.watch) return watchBatch(ctx, res.body.batchId);
      return 0;
    }
    case 'show': {
      const [id] = need(args, 1, 'batch show ID');
      const b = (await http.request<BatchJson>('GET', `/v1/batch-predictions/${encodeURIComponent(id)}`)).body;
      ctx.out(b, () => showBatch(b));
      return 0;
    }
    case 'watch': {
      const [id] = need(args, 1, 'batch watch ID');
      return watchBatch(ctx, id);
    }
    case 'download': {
      const [id] = need(args, 1, 'batch download ID [--errors] [-o FILE]');
      const which = flags.errors ? 'errors' : 'output';
      const res = await http.raw(`/v1/batch-predictions/${encodeURIComponent(id)}/${which}`);
      const file = str(flags.output);
      const body = Readable.fromWeb(res.body as never);
      if (file) {
        await pipeline(body, createWriteStream(file));
        ctx.io.stderr(`wrote ${which} of ${id} to ${file}\n`);
      } else {
        for await (const chunk of body) ctx.io.stdout(chunk.toString('utf8'));
      }
      return 0;
    }
    case 'cancel': {
      const [id] = need(args, 1, 'batch cancel ID');
      const res = await http.request('POST', `/v1/batch-predictions/${encodeURIComponent(id)}/cancel`);
      ctx.out(res.body, () => `cancellation requested for ${id}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "batch ${command ?? ''}"; use start, show, watch, download or cancel`);
  }
}

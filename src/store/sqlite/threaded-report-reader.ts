import { Worker } from 'node:worker_threads';
import { workerUrl } from '../../ingest/worker-url.js';
import type { ReportReader } from '../../ports/report-reader.js';
import type { ReportCall, ReportReply, ReportResult } from './report-thread-protocol.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Waiting {
  resolve: (result: ReportResult) => void;
  reject: (err: Error) => void;
}

/**
 * A ReportReader whose queries run in a worker thread on a read-only connection: better-sqlite3 is
 * synchronous, and a report over millions of rows on the main thread would stall every click.
 */
export function openThreadedReportReader(file: string): ReportReader & { close(): Promise<void> } {
  const worker = new Worker(workerUrl(import.meta.url, './report-thread.js'), { workerData: { file } });
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let failure: Error | null = null;

  const failAll = (err: Error) => {
    failure = err;
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };
  worker.on('message', (reply: ReportReply) => {
    const call = waiting.get(reply.id);
    if (!call) return;
    waiting.delete(reply.id);
    if (reply.ok) call.resolve(reply.result);
    else call.reject(new Error(`report query failed: ${reply.message}`));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`report thread exited (${code})`)));

  const call = <R extends ReportResult>(message: DistributiveOmit<ReportCall, 'id'>): Promise<R> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (result: ReportResult) => void, reject });
      worker.postMessage({ ...message, id });
    });
  };

  return {
    rollups: (query) => call({ method: 'rollups', args: [query] }),
    skipReasons: (query) => call({ method: 'skipReasons', args: [query] }),
    names: (entity, ids) => call({ method: 'names', args: [entity, ids] }),
    async close() {
      await worker.terminate();
    },
  };
}

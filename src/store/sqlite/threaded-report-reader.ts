import { Worker, type ResourceLimits } from 'node:worker_threads';
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
 * A thread that dies (out of memory on a huge report, a crash) fails the calls it was answering; the
 * next call starts a new one, so one bad report does not end reporting until a restart. Node ends a
 * worker that runs out of heap alone, without the main thread; `limits` (tests) makes it smaller.
 */
export function openThreadedReportReader(file: string, limits?: ResourceLimits): ReportReader & { close(): Promise<void> } {
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let worker: Worker | null = null;
  let closed = false;

  const start = (): Worker => {
    const thread = new Worker(workerUrl(import.meta.url, './report-thread.js'), { workerData: { file }, ...(limits ? { resourceLimits: limits } : {}) });
    thread.on('message', (reply: ReportReply) => {
      const call = waiting.get(reply.id);
      if (!call) return;
      waiting.delete(reply.id);
      if (reply.ok) call.resolve(reply.result);
      else call.reject(new Error(`report query failed: ${reply.message}`));
    });
    const failAll = (err: Error) => {
      if (worker !== thread) return;
      worker = null;
      for (const { reject } of waiting.values()) reject(err);
      waiting.clear();
    };
    thread.on('error', (err) => failAll(new Error(`report thread failed: ${err.message}`)));
    thread.on('exit', (code) => failAll(new Error(`report thread exited (${code})`)));
    return thread;
  };

  const call = <R extends ReportResult>(message: DistributiveOmit<ReportCall, 'id'>): Promise<R> => {
    if (closed) return Promise.reject(new Error('the report reader is closed'));
    worker ??= start();
    const thread = worker;
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (result: ReportResult) => void, reject });
      thread.postMessage({ ...message, id });
    });
  };

  return {
    rollups: (query) => call({ method: 'rollups', args: [query] }),
    skipReasons: (query) => call({ method: 'skipReasons', args: [query] }),
    names: (entity, ids) => call({ method: 'names', args: [entity, ids] }),
    async close() {
      closed = true;
      const thread = worker;
      worker = null;
      await thread?.terminate();
      for (const { reject } of waiting.values()) reject(new Error('the report reader is closed'));
      waiting.clear();
    },
  };
}

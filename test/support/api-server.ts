import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import type { Store } from '../../src/ports/store.js';
import { openServer, type Server } from '../../src/server.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface Response<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A real Switchyard server on a real port over a real SQLite file, for black-box tests. */
export interface TestServer {
  url: string;
  dataDir: string;
  store: Store;
  app: FastifyInstance;
  /** The server's writers, for tests that store a click directly (e.g. one with an old time). */
  clickWriter: Server['clickWriter'];
  conversionWriter: Server['conversionWriter'];
  /** The server's KPI scheduler: `tick()` runs one tick now instead of waiting for the timer. */
  kpiScheduler: Server['kpiScheduler'];
  /** Runs the live state's minute prune now. */
  pruneLiveState: Server['pruneLiveState'];
  /** Calls the API with the admin key unless `key` is given (null = no key). */
  call<T = any>(method: string, path: string, body?: unknown, options?: { key?: string | null; headers?: Record<string, string> }): Promise<Response<T>>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'switchyard-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startServer(options: { dataDir?: string; env?: Record<string, string>; now?: () => number } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({ DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', PORT: '0', ...options.env });
  const server = await openServer(config, { now: options.now });
  const { app, store } = server;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    dataDir,
    store,
    app,
    clickWriter: server.clickWriter,
    conversionWriter: server.conversionWriter,
    kpiScheduler: server.kpiScheduler,
    pruneLiveState: server.pruneLiveState,
    async call(method, route, body, callOptions = {}) {
      const key = callOptions.key === undefined ? ADMIN_KEY : callOptions.key;
      const headers: Record<string, string> = { ...callOptions.headers };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + route, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: keep the text so the test can say what came back.
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
    close: () => server.close(),
  };
}

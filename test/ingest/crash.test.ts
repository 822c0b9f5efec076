import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import { clickFromRow, type ClickRow } from '../../src/store/sql/click-row.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { expectCubesAsRebuilt, tempDataDir } from './helpers.js';

const CRASH_WRITER = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
const ACKNOWLEDGED_BEFORE_KILL = 3000;
const DEADLINE_MS = 10_000;
const OUTCOMES = ['routed', 'catch_all', 'fail_traffic', 'no_match', 'invalid'];

let running: ChildProcess | undefined;

interface CrashRun {
  acknowledged: ClickRecord[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the crash writer until it has acknowledged enough clicks, then kill -9s it mid-load. */
function runAndKill(dataDir: string, synchronous: string): Promise<CrashRun> {
  const child = spawn(process.execPath, [CRASH_WRITER, dataDir, synchronous], { stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  let stdout = '';
  let stderr = '';
  let lines = 0;
  // A writer that stalls (or never yields) is killed anyway; the count assertion then fails clearly.
  const deadline = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    lines += chunk.split('\n').length - 1;
    if (lines >= ACKNOWLEDGED_BEFORE_KILL) child.kill('SIGKILL');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close' (not 'exit') waits for the pipes to drain: acknowledgements still in flight count too.
  return new Promise((resolve) => child.on('close', (_code, signal) => {
    clearTimeout(deadline);
    const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
    resolve({ acknowledged: complete.map((line) => JSON.parse(line) as ClickRecord), signal, stderr });
  }));
}

/** Every stored row must map back to a well-formed click; a torn or garbled row fails here. */
function expectWellFormed(click: ClickRecord): void {
  expect(click.transaction_id).toMatch(/^[0-9a-f]{32}$/);
  expect(new Date(click.time).toISOString()).toBe(click.time);
  expect(OUTCOMES).toContain(click.outcome);
  expect(Array.isArray(click.skipped)).toBe(true);
  expect(Number.isInteger(click.smart_link_id) && Number.isInteger(click.partner_id)).toBe(true);
  expect(click.tracking_token).toMatch(/^[A-Za-z0-9_-]{24}$/);
}

let dataDir: string | undefined;
afterEach(() => {
  // Also when the test itself timed out: never leave a writer running behind.
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  running = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('SQLite click writer under kill -9', () => {
  it.each(['full', 'normal'])(
    'synchronous=%s: every acknowledged click survives kill -9 mid-load, and no stored row is corrupt',
    async (synchronous) => {
      dataDir = tempDataDir();
      const run = await runAndKill(dataDir, synchronous);
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.acknowledged.length, `acknowledged before the ${DEADLINE_MS} ms deadline`).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);

      // Reopening replays the WAL exactly as a restarted server would.
      const store = await openSqliteStore({ dataDir, synchronous: 'full' });
      try {
        for (const click of run.acknowledged) {
          expect(await store.clicks.get(click.transaction_id)).toEqual(click);
        }
      } finally {
        await store.close();
      }

      // Report sums are written in the transaction of their rows: whatever the kill cut, they agree.
      expectCubesAsRebuilt(path.join(dataDir, DATABASE_FILE));

      const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const rows = db.prepare('select * from clicks').all() as ClickRow[];
        expect(rows.length).toBeGreaterThanOrEqual(run.acknowledged.length);
        rows.map(clickFromRow).forEach(expectWellFormed);
      } finally {
        db.close();
      }
    },
  );
});

/**
 * The report thread: answers ReportReader calls on its own read-only connection, so a long report
 * query never blocks the main thread (and with it every click). Started by threaded-report-reader.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { ReportReader } from '../../ports/report-reader.js';
import type { Db } from '../sql/dialect.js';
import { reportReader } from '../sql/report-reader.js';
import type { ReportCall, ReportReply, ReportResult } from './report-thread-protocol.js';

const database = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });
database.pragma('busy_timeout = 5000');
const db: Db = new Kysely({ dialect: new SqliteDialect({ database }) });
const reader: ReportReader = reportReader(db);

function run(call: ReportCall): Promise<ReportResult> {
  switch (call.method) {
    case 'rollups':
      return reader.rollups(...call.args);
    case 'skipReasons':
      return reader.skipReasons(...call.args);
    case 'names':
      return reader.names(...call.args);
  }
}

parentPort?.on('message', (call: ReportCall) => {
  const reply = (message: ReportReply) => parentPort?.postMessage(message);
  run(call).then(
    (result) => reply({ id: call.id, ok: true, result }),
    (err: unknown) => reply({ id: call.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});

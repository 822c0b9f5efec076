/**
 * The writer's thread: owns one SQLite connection and commits clicks and conversions in groups. It
 * is started by sqlite-click-writer.ts; see README.md for the protocol and its invariants.
 */
import fs from 'node:fs';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { ConversionWriteResult } from '../ports/conversion-writer.js';
import { CLICK_COLUMNS, clickToRow } from '../store/sql/click-row.js';
import { openConnection } from './sqlite-connection.js';
import { prepareConversionInsert } from './sqlite-conversion-insert.js';
import { prepareRollups } from './sqlite-rollups.js';
import type { FromWriter, ToWriter, WriteItem, WriterWorkerData } from './sqlite-writer-protocol.js';

interface Queued {
  seq: number;
  item: WriteItem;
}

interface BatchOutcome {
  rejected: { seq: number; message: string }[];
  conversions: { seq: number; result: ConversionWriteResult }[];
}

const settings = workerData as WriterWorkerData;
const { port, checkpointPort, batchMax, batchWaitMs, walLimitPages } = settings;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
const codeOf = (err: unknown) => (err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined);

/** Opens the connection and compiles the inserts; a database without the clicks table fails here. */
function prepare() {
  const db = openConnection(settings);
  // `on conflict do nothing` turns a duplicate id into `changes === 0` for that row alone, instead
  // of an error that would need a statement rollback.
  const insert = db.prepare(
    `insert into clicks (${CLICK_COLUMNS.join(', ')}) values (${CLICK_COLUMNS.map((c) => `@${c}`).join(', ')})
     on conflict (transaction_id) do nothing`,
  );
  const rollups = prepareRollups(db);
  // A click's rollup sums are staged once its insert succeeded; the batch writes them before COMMIT.
  const insertClick = (row: ReturnType<typeof clickToRow>): boolean => {
    if (insert.run(row).changes === 0) return false;
    rollups.addClick(row);
    return true;
  };
  const insertConversion = prepareConversionInsert(db, rollups);
  /** Inserts every item; returns the ones refused one by one. Throws when the transaction itself fails. */
  const insertAll = db.transaction((batch: Queued[]): BatchOutcome => {
    // Sums staged by a batch that failed were rolled back with it.
    rollups.discard();
    const outcome: BatchOutcome = { rejected: [], conversions: [] };
    const { rejected } = outcome;
    for (const { seq, item } of batch) {
      try {
        if (item.type === 'conversion') {
          outcome.conversions.push({ seq, result: insertConversion(item.write) });
        } else if (!insertClick(clickToRow(item.click))) {
          rejected.push({ seq, message: `duplicate transaction_id ${item.click.transaction_id}` });
        }
      } catch (err) {
        // A failed statement normally leaves the transaction open; if SQLite rolled it back (I/O
        // error, disk full), carrying on would autocommit later rows, so the whole batch fails.
        if (!db.inTransaction) throw err;
        rejected.push({ seq, message: messageOf(err) });
      }
    }
    // The rollups of every stored row, one upsert per cube and key; if this fails, so does the batch.
    rollups.flush();
    return outcome;
  });
  return { db, insertAll };
}

function prepareOrExplain(): ReturnType<typeof prepare> {
  try {
    return prepare();
  } catch (err) {
    // SqliteError loses its message crossing threads (only plain Error is cloned faithfully).
    throw new Error(`click writer cannot open ${settings.file}: ${messageOf(err)}`);
  }
}

const { db, insertAll } = prepareOrExplain();

const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;
const walFile = `${settings.file}-wal`;
const walLimitBytes = WAL_HEADER_BYTES + walLimitPages * (WAL_FRAME_HEADER_BYTES + Number(db.pragma('page_size', { simple: true })));
// When the log restarts from its beginning, the first commit after it cuts the file back to this
// size, so the file is larger than the limit exactly when the log outgrew it since its last restart.
db.pragma(`journal_size_limit = ${walLimitBytes}`);

/**
 * Whether the log has outgrown the limit. The checkpointer notices that too, but on a timer: a
 * thread starved of CPU (every core busy) notices late, and the WAL would grow meanwhile. One stat
 * per batch keeps the bound here; while a checkpoint cannot finish (the checkpointer holds the lock,
 * or a reader still uses old pages) every batch tries again.
 */
function walOutgrown(): boolean {
  try {
    return fs.statSync(walFile).size > walLimitBytes;
  } catch {
    return false;
  }
}

const queue: Queued[] = [];
let waitTimer: NodeJS.Timeout | undefined;
let closing = false;
let probeRequested = false;

const send = (message: FromWriter) => port.postMessage(message);

function enqueue(message: ToWriter): void {
  if (message.kind === 'close') {
    closing = true;
    return;
  }
  if (message.kind === 'probe') {
    probeRequested = true;
    return;
  }
  message.items.forEach((item, i) => queue.push({ seq: message.firstSeq + i, item }));
}

/** Moves every message already waiting on the port into the queue, without yielding. */
function drainPort(): void {
  for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) {
    enqueue(received.message as ToWriter);
  }
}

function commit(batch: Queued[]): void {
  const fromSeq = (batch[0] as Queued).seq;
  const toSeq = (batch[batch.length - 1] as Queued).seq;
  const startedMs = performance.now();
  try {
    const { rejected, conversions } = insertAll.immediate(batch);
    send({ kind: 'committed', fromSeq, toSeq, rejected, conversions, commitMs: performance.now() - startedMs });
  } catch (err) {
    send({ kind: 'failed', fromSeq, toSeq, message: messageOf(err), code: codeOf(err) });
  }
}

/**
 * A commit that writes a page and changes nothing: setting the schema's user version to itself
 * rewrites the database header. It fails for whatever made the last batch fail (a lock held
 * elsewhere, a full disk) and succeeds once that is gone, with no clicks needed to find out.
 */
const probeCommit = db.transaction(() => {
  db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`);
});

/** A probe asks whether the lock is free now; waiting for it as a batch does would hold clicks back. */
const PROBE_BUSY_TIMEOUT_MS = 100;

function probe(): void {
  probeRequested = false;
  db.pragma(`busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`);
  try {
    probeCommit.immediate();
    send({ kind: 'probed', failure: null });
  } catch (err) {
    send({ kind: 'probed', failure: messageOf(err) });
  } finally {
    db.pragma(`busy_timeout = ${Math.trunc(settings.busyTimeoutMs)}`);
  }
}

/** Copies the WAL into the database between two batches, when nothing else appends to it. */
function checkpointBetweenBatches(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    send({ kind: 'checkpoint-failed', message: messageOf(err) });
  }
}

/** Finishes a checkpoint the checkpointer could not complete; see sqlite-checkpoint-worker.ts. */
function catchUpCheckpoint(): void {
  // Several requests may have queued while batches ran; one checkpoint answers all of them.
  while (receiveMessageOnPort(checkpointPort));
  checkpointBetweenBatches();
  checkpointPort.postMessage('done');
}

/**
 * Group commit: every click that arrived while the previous commit (and its fsync) ran is waiting on
 * the port, so draining it before each commit puts all of them into one transaction.
 */
function run(): void {
  clearTimeout(waitTimer);
  waitTimer = undefined;
  drainPort();
  while (queue.length > 0) {
    commit(queue.splice(0, batchMax));
    if (receiveMessageOnPort(checkpointPort)) catchUpCheckpoint();
    else if (walOutgrown()) checkpointBetweenBatches();
    drainPort();
  }
  if (probeRequested && !closing) probe();
  if (closing) {
    db.close();
    port.close();
    checkpointPort.close();
  }
}

port.on('message', (message: ToWriter) => {
  enqueue(message);
  // An optional short wait lets a trickle of clicks share a commit; a full batch never waits.
  if (batchWaitMs === 0 || closing || queue.length >= batchMax) run();
  else waitTimer ??= setTimeout(run, batchWaitMs);
});

checkpointPort.on('message', catchUpCheckpoint);

// Every statement compiled and the table found: the main thread may start sending clicks.
send({ kind: 'ready' });

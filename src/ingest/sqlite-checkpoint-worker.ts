/**
 * Moves committed pages from the WAL into the database file on a timer, on its own thread and
 * connection, so the writer never waits for that work (or its database-file fsync).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './sqlite-connection.js';
import type { CheckpointWorkerData, FromCheckpointer } from './sqlite-writer-protocol.js';

interface CheckpointResult {
  log: number;
}

const settings = workerData as CheckpointWorkerData;
const db = openConnection(settings);
// Only one connection can checkpoint at a time: while the writer catches up, this thread stands
// aside, or the writer's attempt would find the checkpoint lock taken and achieve nothing.
let writerCatchingUp = false;
settings.writerPort.on('message', () => (writerCatchingUp = false));

/**
 * PASSIVE never blocks the writer: it copies what was committed when it started. The WAL restarts
 * from its beginning only once a checkpoint has copied *everything*, which under sustained load never
 * happens here (new batches land while it copies) and the file would grow without bound. Past the
 * limit the writer is asked to finish the job between two batches, when nothing else is appending;
 * by then little is left to copy, so that pause is short.
 */
function checkpoint(): void {
  if (writerCatchingUp) return;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    // `log` is the WAL's length since it last restarted; `checkpointed` only says this pass copied
    // its own snapshot, not that the writer added nothing meanwhile.
    if (result && result.log > settings.walLimitPages) {
      writerCatchingUp = true;
      settings.writerPort.postMessage('catch-up');
    }
  } catch (err) {
    const message: FromCheckpointer = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
    parentPort?.postMessage(message);
  }
}

const timer = setInterval(checkpoint, settings.intervalMs);

// Any message means stop; with the timer cleared and the listeners gone, the thread ends.
parentPort?.once('message', () => {
  clearInterval(timer);
  settings.writerPort.close();
  db.close();
});

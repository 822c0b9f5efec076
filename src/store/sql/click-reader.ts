import { sql } from 'kysely';
import type { ClickReader } from '../../ports/store.js';
import { clickFromRow, type ClickRow } from './click-row.js';
import type { Executor } from './dialect.js';

export function clickReader(db: Executor): ClickReader {
  return {
    async get(transactionId) {
      const { rows } = await sql<ClickRow>`select * from clicks where transaction_id = ${transactionId}`.execute(db);
      return rows[0] ? clickFromRow(rows[0]) : undefined;
    },
  };
}

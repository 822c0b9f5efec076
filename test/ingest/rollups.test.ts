import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import { ROLLUP_CUBES } from '../../src/domain/report.js';
import { rebuildRollups } from '../../src/ingest/sqlite-rollups.js';
import type { ConversionWrite } from '../../src/ports/conversion-writer.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { randomClick } from './fixtures/random-click.mjs';
import { openWriter, type WriterFixture } from './helpers.js';

/**
 * The writer stages rollup sums per batch and writes them before COMMIT (sqlite-rollups.ts): every
 * cube must count exactly the rows that were stored — nothing from a refused write or a failed batch.
 */

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

function conversionOf(click: ClickRecord, eventKey: string, postback: boolean): ConversionWrite {
  return {
    conversion: {
      transaction_id: click.transaction_id, time: new Date().toISOString(), click_time: click.time,
      offer_id: 1, partner_id: click.partner_id, advertiser_id: 1, smart_link_id: click.smart_link_id,
      entry_id: click.entry_id, offer_url_id: click.offer_url_id, method: 'server_postback', status: 'approved',
      status_reason: null, event_id: eventKey || null, order_id: null, amount_micros: null, payout_micros: 1_000_000, revenue_micros: 3_000_000,
      adv1: null, adv2: null, adv3: null, adv4: null, adv5: null,
    },
    event_key: eventKey,
    order_key: '',
    partner_postback: postback ? { partner_id: click.partner_id, url_pieces: ['https://p.example/?c=', ''] } : null,
  };
}

const totals = 'sum(clicks) as clicks, sum(conversions) as conversions, sum(events) as events, sum(revenue_micros) as revenue, sum(payout_micros) as payout';

describe('rollups kept by the writer', () => {
  it('every cube counts exactly the stored rows: not a refused duplicate, a conversion whose postback was refused, or a failed batch', async () => {
    fixture = await openWriter({ synchronous: 'normal', busyTimeoutMs: 50 });
    const { writer, dataDir } = fixture;
    const file = path.join(dataDir, DATABASE_FILE);
    const first = randomClick();
    await writer.write(first);
    const other = randomClick();
    const db = new Database(file);
    db.exec("create trigger refuse_outbox before insert on partner_postbacks begin select raise(abort, 'outbox refused'); end");
    const results = await Promise.allSettled([
      writer.write({ ...randomClick(), transaction_id: first.transaction_id }),
      writer.write(other),
      writer.writeConversion(conversionOf(first, '', true)),
      writer.writeConversion(conversionOf(other, '', false)),
      writer.writeConversion(conversionOf(other, 'deposit', false)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    // A batch whose commit fails (another connection holds the write lock) stores nothing at all.
    db.exec('begin immediate');
    const failed = await Promise.allSettled([writer.write(randomClick()), writer.writeConversion(conversionOf(first, 'late', false))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    db.exec('rollback');
    await writer.write(randomClick());

    const raw = db.prepare(`select (select count(*) from clicks) as clicks,
      (select count(*) from conversions where event_key = '') as conversions, (select count(*) from conversions where event_key <> '') as events,
      (select sum(revenue_micros) from conversions) as revenue, (select sum(payout_micros) from conversions) as payout`).get();
    expect(raw).toEqual({ clicks: 3, conversions: 1, events: 1, revenue: 6_000_000, payout: 2_000_000 });
    for (const cube of ROLLUP_CUBES) expect(db.prepare(`select ${totals} from ${cube.table}`).get(), cube.table).toEqual(raw);
    db.close();

    // And row by row, each cube equals what a rebuild computes from the raw records.
    await writer.close();
    const again = new Database(file);
    try {
      const dump = () => ROLLUP_CUBES.map((cube) => again.prepare(`select * from ${cube.table} order by ${['bucket', ...cube.dimensions].join(', ')}`).all());
      const kept = dump();
      rebuildRollups(again);
      expect(dump()).toEqual(kept);
    } finally {
      again.close();
    }
  });
});

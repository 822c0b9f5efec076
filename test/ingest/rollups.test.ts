import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROLLUP_CUBES } from '../../src/domain/report.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { randomClick } from './fixtures/random-click.mjs';
import { conversionOf, expectCubesAsRebuilt, openWriter, type WriterFixture } from './helpers.js';

/**
 * The writer stages rollup sums per batch and writes them before COMMIT (sqlite-rollups.ts): every
 * cube must count exactly the rows that were stored — nothing from a refused write or a failed batch.
 */

/** Every conversion here carries these amounts: the raw totals below are sums of them. */
const amounts = { payoutMicros: 1_000_000, revenueMicros: 3_000_000 };

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});


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
      writer.writeConversion(conversionOf(first, { ...amounts, postbackUrl: ['https://p.example/?c=', ''] })),
      writer.writeConversion(conversionOf(other, amounts)),
      writer.writeConversion(conversionOf(other, { ...amounts, eventKey: 'deposit' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    // A batch whose commit fails (another connection holds the write lock) stores nothing at all.
    db.exec('begin immediate');
    const failed = await Promise.allSettled([writer.write(randomClick()), writer.writeConversion(conversionOf(first, { ...amounts, eventKey: 'late' }))]);
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
    expectCubesAsRebuilt(file);
  });

  it('clicks and conversions sharing links, entries and buckets across many batches sum in every cube as a rebuild from the raw rows does', async () => {
    fixture = await openWriter({ synchronous: 'normal' });
    const { writer, dataDir } = fixture;
    // Nine-minute steps from 23:40 cross quarter hours, hours and midnight; few links and entries, so
    // rows of one batch (and of different batches) meet under the same key in every cube.
    const start = Date.UTC(2026, 2, 4, 23, 40);
    const clicks = Array.from({ length: 600 }, (_, i) => ({
      ...randomClick(new Date(start + (i % 7) * 9 * 60_000)),
      smart_link_id: 1 + (i % 3),
      partner_id: 1 + (i % 2),
      entry_id: i % 5 === 0 ? null : 10 + (i % 4),
      offer_id: 20 + (i % 4),
    }));
    for (let i = 0; i < clicks.length; i += 150) await Promise.all(clicks.slice(i, i + 150).map((click) => writer.write(click)));
    await Promise.all(clicks.filter((_, i) => i % 4 === 0).map((click) => writer.writeConversion(conversionOf(click, amounts))));
    expect(fixture.batches.length).toBeGreaterThan(4);
    await writer.close();
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect(db.prepare('select sum(clicks) as clicks, sum(conversions) as conversions from report_links_day').get()).toEqual({ clicks: 600, conversions: 150 });
    } finally {
      db.close();
    }
    expectCubesAsRebuilt(path.join(dataDir, DATABASE_FILE));
  });
});

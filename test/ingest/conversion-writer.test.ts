import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { randomClick } from './fixtures/random-click.mjs';
import { conversionOf, openWriter, type WriterFixture } from './helpers.js';

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});


function rows(dataDir: string, query: string): unknown[] {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare(query).all();
  } finally {
    db.close();
  }
}

describe('conversions through the SQLite writer', () => {
  it('commit in the same batches as clicks; a key written twice, even in one batch, is stored once and answers the first id', async () => {
    fixture = await openWriter({ synchronous: 'full' });
    const click = randomClick();
    await fixture.writer.write(click);
    const others = Array.from({ length: 50 }, () => randomClick());
    const [first, second, ...rest] = await Promise.all([
      fixture.writer.writeConversion(conversionOf(click)),
      fixture.writer.writeConversion(conversionOf(click)),
      ...others.map((c) => fixture?.writer.write(c)),
    ]);
    expect(first).toEqual({ inserted: true, id: expect.any(Number) });
    expect(second).toEqual({ inserted: false, id: first?.id });
    expect(rest).toHaveLength(50);
    // The click written first went alone; the two conversions went into the next batch together with
    // clicks, not into a transaction of their own. (How many batches the rest took depends on how the
    // writer thread and this one interleave, so it is not asserted.)
    expect(fixture.batches[0]).toBe(1);
    expect(fixture.batches[1]).toBeGreaterThan(2);
    expect(fixture.batches.reduce((sum, size) => sum + size, 0)).toBe(53);
    expect(rows(fixture.dataDir, 'select id from conversions')).toHaveLength(1);
  });

  it('stores the partner postback with the conversion id joined in, in the same transaction', async () => {
    fixture = await openWriter({ synchronous: 'normal' });
    const click = randomClick();
    const result = await fixture.writer.writeConversion(conversionOf(click, { eventKey: 'buy', postbackUrl: ['https://p.example/?c=', '&again=', ''] }));
    expect(rows(fixture.dataDir, 'select conversion_id, url, state, attempts from partner_postbacks')).toEqual([
      { conversion_id: result.id, url: `https://p.example/?c=${result.id}&again=${result.id}`, state: 'pending', attempts: 0 },
    ]);
  });

  it('a conversion whose partner postback cannot be queued is not stored either, and rejects alone', async () => {
    fixture = await openWriter({ synchronous: 'normal' });
    // Another connection changes the schema; the writer's statements recompile on their own.
    const db = new Database(path.join(fixture.dataDir, DATABASE_FILE));
    db.exec("create trigger refuse_outbox before insert on partner_postbacks begin select raise(abort, 'outbox refused'); end");
    db.close();
    const [refused, plain, click] = await Promise.allSettled([
      fixture.writer.writeConversion(conversionOf(randomClick(), { eventKey: 'a', postbackUrl: ['https://p.example/'] })),
      fixture.writer.writeConversion(conversionOf(randomClick(), { eventKey: 'b' })),
      fixture.writer.write(randomClick()),
    ]);
    expect(refused.status).toBe('rejected');
    expect(plain.status).toBe('fulfilled');
    expect(click.status).toBe('fulfilled');
    expect(rows(fixture.dataDir, 'select event_key from conversions')).toEqual([{ event_key: 'b' }]);
  });
});

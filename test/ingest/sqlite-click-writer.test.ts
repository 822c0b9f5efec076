import { afterEach, describe, expect, it } from 'vitest';
import { randomClick } from './fixtures/random-click.mjs';
import { openWriter, type WriterFixture } from './helpers.js';

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe.each(['full', 'normal'] as const)('SQLite click writer, synchronous=%s', (synchronous) => {
  it('stores every acknowledged click of many concurrent writes, reading back equal', async () => {
    fixture = await openWriter({ synchronous });
    const clicks = Array.from({ length: 2000 }, () => randomClick());
    await Promise.all(clicks.map((click) => fixture?.writer.write(click)));
    for (const click of clicks) {
      expect(await fixture.store.clicks.get(click.transaction_id)).toEqual(click);
    }
  });

  it('commits concurrent writes in shared batches, none larger than batchMax', async () => {
    fixture = await openWriter({ synchronous, batchMax: 100 });
    const clicks = Array.from({ length: 1000 }, () => randomClick());
    await Promise.all(clicks.map((click) => fixture?.writer.write(click)));
    const { batches } = fixture;
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(clicks.length);
    expect(batches.length).toBeLessThan(clicks.length / 5);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
  });

  it('close() stores every pending write before it resolves', async () => {
    fixture = await openWriter({ synchronous });
    const clicks = Array.from({ length: 1000 }, () => randomClick());
    const writes = clicks.map((click) => fixture?.writer.write(click));
    await fixture.writer.close();
    // Every write had settled, successfully, by the time close() resolved.
    expect(fixture.writer.queueDepth).toBe(0);
    await expect(Promise.all(writes)).resolves.toBeDefined();
    for (const click of clicks) expect(await fixture.store.clicks.get(click.transaction_id)).toEqual(click);
  });

  it('rejects a write after close() and stores nothing', async () => {
    fixture = await openWriter({ synchronous });
    await fixture.writer.close();
    const click = randomClick();
    await expect(fixture.writer.write(click)).rejects.toThrow(/closed/);
    expect(await fixture.store.clicks.get(click.transaction_id)).toBeUndefined();
  });
});

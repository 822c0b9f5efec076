import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { openThreadedReportReader } from '../../src/store/sqlite/threaded-report-reader.js';
import { tempDir } from '../support/api-server.js';

describe('the report thread', () => {
  it('a report that exhausts the thread fails alone: the next report gets a new thread and is answered', async () => {
    const dataDir = tempDir();
    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    const advertiser = await store.advertisers.insert({ name: 'Kept', status: 'active', default_currency: 'USD' });
    // A small heap stands in for a report over millions of groups.
    const reader = openThreadedReportReader(path.join(dataDir, DATABASE_FILE), { maxOldGenerationSizeMb: 24 });
    try {
      const huge = Array.from({ length: 3_000_000 }, (_, i) => i + 1);
      await expect(reader.names('advertisers', huge)).rejects.toThrow(/report thread/);
      expect(await reader.names('advertisers', [advertiser.id])).toEqual(new Map([[advertiser.id, 'Kept']]));
    } finally {
      await reader.close();
      await store.close();
    }
  }, 60_000);
});

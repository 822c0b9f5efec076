import { sql } from 'kysely';
import type { Entry } from '../../domain/schemas/smart-link.js';
import type { Meta, SmartLinkBody, SmartLinkRecord } from '../../domain/records.js';
import type { ListQuery, ListResult, ResourceRepo, UpdateResult } from '../../ports/store.js';
import type { Clock, Executor } from './dialect.js';
import { DocumentRepo } from './document-repo.js';

type StoredBody = Omit<SmartLinkRecord, keyof Meta>;

/**
 * Smart links are documents with their entries inline. Entry ids come from `smart_link_entries`,
 * which also indexes which offers each live link uses; callers run writes inside a transaction.
 */
export class SmartLinkRepo implements ResourceRepo<SmartLinkRecord, SmartLinkBody> {
  private readonly docs: DocumentRepo<SmartLinkRecord, StoredBody>;

  constructor(
    private readonly db: Executor,
    clock: Clock,
  ) {
    this.docs = new DocumentRepo<SmartLinkRecord, StoredBody>(
      db,
      {
        table: 'smart_links',
        columns: {
          status: (b) => b.status,
          tracking_domain_id: (b) => b.tracking_domain_id,
          catch_all_offer_id: (b) => b.catch_all_offer_id,
          visible_to_partners: (b) => Number(b.visible_to_partners),
        },
      },
      clock,
    );
  }

  async insert(body: SmartLinkBody): Promise<SmartLinkRecord> {
    const entries = await this.assignEntryIds(0, body.entries, new Set());
    const record = await this.docs.insert({ ...body, entries });
    await sql`update smart_link_entries set smart_link_id = ${record.id}
      where id in (${sql.join(entries.map((e) => e.id))})`.execute(this.db);
    return record;
  }

  async update(id: number, body: SmartLinkBody, expectedVersion?: number): Promise<UpdateResult<SmartLinkRecord>> {
    const current = await this.docs.get(id);
    if (!current) return { ok: false, reason: 'not_found' };
    if (expectedVersion !== undefined && current.version !== expectedVersion) return { ok: false, reason: 'conflict' };
    const owned = new Set(current.entries.map((e) => e.id));
    const entries = await this.assignEntryIds(id, body.entries, owned);
    const kept = entries.map((e) => e.id);
    await sql`delete from smart_link_entries where smart_link_id = ${id}
      and id not in (${sql.join(kept)})`.execute(this.db);
    return this.docs.update(id, { ...body, entries }, current.version);
  }

  get(id: number) {
    return this.docs.get(id);
  }

  list(query: ListQuery): Promise<ListResult<SmartLinkRecord>> {
    return this.docs.list(query);
  }

  all() {
    return this.docs.all();
  }

  stamps() {
    return this.docs.stamps();
  }

  async remove(id: number): Promise<boolean> {
    await sql`delete from smart_link_entries where smart_link_id = ${id}`.execute(this.db);
    return this.docs.remove(id);
  }

  /** Keeps the ids of entries this link already owns and allocates fresh ones for the rest. */
  private async assignEntryIds(linkId: number, entries: SmartLinkBody['entries'], owned: Set<number>): Promise<Entry[]> {
    const result: Entry[] = [];
    for (const { id, ...entry } of entries) {
      if (id !== undefined && owned.has(id)) {
        await sql`update smart_link_entries set offer_id = ${entry.offer_id}, offer_url_id = ${entry.offer_url_id}
          where id = ${id}`.execute(this.db);
        result.push({ id, ...entry });
        continue;
      }
      const { rows } = await sql<{ id: number | string }>`insert into smart_link_entries (smart_link_id, offer_id, offer_url_id)
        values (${linkId}, ${entry.offer_id}, ${entry.offer_url_id}) returning id`.execute(this.db);
      result.push({ id: Number(rows[0]?.id), ...entry });
    }
    return result;
  }
}

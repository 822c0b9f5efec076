import { sql } from 'kysely';
import type { ClaimedPostback, OutboxRepo, PostbackRecord } from '../../ports/outbox.js';
import type { Executor } from './dialect.js';

type Row = Omit<PostbackRecord, 'id' | 'conversion_id' | 'partner_id' | 'attempts'> & {
  id: number | string;
  conversion_id: number | string;
  partner_id: number | string;
  attempts: number | string;
};

const fromRow = (row: Row): PostbackRecord => ({
  ...row,
  id: Number(row.id),
  conversion_id: Number(row.conversion_id),
  partner_id: Number(row.partner_id),
  attempts: Number(row.attempts),
});

const claimOf = ({ id, conversion_id, partner_id, url, attempts }: PostbackRecord): ClaimedPostback =>
  ({ id, conversion_id, partner_id, url, attempts });

// last_error is for operators; a hostile receiver must not fill the table through it.
const MAX_ERROR_CHARS = 500;
const clip = (error: string) => error.slice(0, MAX_ERROR_CHARS);

/**
 * The outbox over the `partner_postbacks` table (migration 0003). Times are ISO 8601 UTC text, so
 * comparing them as strings compares instants; producers must write `Date#toISOString()` too.
 */
export function sqlOutboxRepo(db: Executor): OutboxRepo {
  // The row is ours only while it is still `sending` under the attempt we claimed.
  const owned = (claim: ClaimedPostback) => sql`id = ${claim.id} and state = 'sending' and attempts = ${claim.attempts}`;
  const changed = (result: { numAffectedRows?: bigint }) => (result.numAffectedRows ?? 0n) > 0n;
  return {
    async enqueue({ conversion_id, partner_id, url }, now) {
      const at = now.toISOString();
      const { rows } = await sql<{ id: number | string }>`insert into partner_postbacks
        (conversion_id, partner_id, url, state, attempts, next_attempt_at, last_error, created_at, delivered_at)
        values (${conversion_id}, ${partner_id}, ${url}, 'pending', 0, ${at}, null, ${at}, null)
        returning id`.execute(db);
      return Number(rows[0]?.id);
    },
    async claimDue(now, leaseUntil, limit) {
      const at = now.toISOString();
      const due = sql`state in ('pending', 'sending') and next_attempt_at <= ${at}`;
      // A read first: it takes no write lock, and on an idle outbox (the usual case) it is all a
      // poll costs. The update re-checks `due`, so a row another dispatcher claimed in between is
      // skipped (on PostgreSQL the re-check runs on the row version it waited for).
      // Partners take turns: each due row's place is its rank among its partner's due rows plus the
      // rows that partner already has sending. Oldest first across all partners, a partner whose
      // endpoint hangs filled every slot with its backlog and held everyone else's postbacks behind
      // its timeouts; in turns, it still gets every slot nobody else needs.
      const { rows: ids } = await sql<{ id: number | string }>`select id from (
          select id, next_attempt_at, row_number() over (partition by partner_id order by next_attempt_at, id) + coalesce(busy.n, 0) as place
          from partner_postbacks
          left join (select partner_id as busy_partner, count(*) as n from partner_postbacks
            where state = 'sending' and next_attempt_at > ${at} group by partner_id) busy on busy.busy_partner = partner_id
          where ${due}
        ) candidates
        order by place, next_attempt_at, id limit ${limit}`.execute(db);
      if (ids.length === 0) return [];
      const { rows } = await sql<Row>`update partner_postbacks
        set state = 'sending', attempts = attempts + 1, next_attempt_at = ${leaseUntil.toISOString()}
        where id in (${sql.join(ids.map((row) => Number(row.id)))}) and ${due}
        returning *`.execute(db);
      return rows.map(fromRow).sort((a, b) => a.id - b.id).map(claimOf);
    },
    async markDelivered(claim, now) {
      const result = await sql`update partner_postbacks set state = 'delivered', delivered_at = ${now.toISOString()},
        last_error = null where ${owned(claim)}`.execute(db);
      return changed(result);
    },
    async reschedule(claim, nextAttemptAt, error) {
      const result = await sql`update partner_postbacks set state = 'pending',
        next_attempt_at = ${nextAttemptAt.toISOString()}, last_error = ${clip(error)} where ${owned(claim)}`.execute(db);
      return changed(result);
    },
    async markFailed(claim, error) {
      const result = await sql`update partner_postbacks set state = 'failed', last_error = ${clip(error)}
        where ${owned(claim)}`.execute(db);
      return changed(result);
    },
    async depth() {
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from partner_postbacks
        where state in ('pending', 'sending')`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },
    async get(id) {
      const { rows } = await sql<Row>`select * from partner_postbacks where id = ${id}`.execute(db);
      return rows[0] ? fromRow(rows[0]) : undefined;
    },
  };
}

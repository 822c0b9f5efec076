import { sql } from 'kysely';
import type { ClaimedPostback, OutboxRepo, PostbackLog, PostbackRecord } from '../../ports/outbox.js';
import type { Executor } from './dialect.js';

type Row = Omit<PostbackRecord, 'id' | 'conversion_id' | 'partner_id' | 'attempts' | 'attempt_base'> & {
  id: number | string;
  conversion_id: number | string;
  partner_id: number | string;
  attempts: number | string;
  attempt_base: number | string;
};

const fromRow = (row: Row): PostbackRecord => ({
  ...row,
  id: Number(row.id),
  conversion_id: Number(row.conversion_id),
  partner_id: Number(row.partner_id),
  attempts: Number(row.attempts),
  attempt_base: Number(row.attempt_base),
});

const claimOf = ({ id, conversion_id, partner_id, url, attempts, attempt_base }: PostbackRecord): ClaimedPostback =>
  ({ id, conversion_id, partner_id, url, attempts, attempt_base });

const changed = (result: { numAffectedRows?: bigint }) => (result.numAffectedRows ?? 0n) > 0n;

async function rowById(db: Executor, id: number): Promise<PostbackRecord | undefined> {
  const { rows } = await sql<Row>`select * from partner_postbacks where id = ${id}`.execute(db);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Due rows in the order they fell due (ties by id). */
const byDue = (a: { next: string; id: number }, b: { next: string; id: number }) => (a.next < b.next ? -1 : a.next > b.next ? 1 : a.id - b.id);

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
  // Where the last claim's turn through the partners stopped.
  let turnAfterPartner = -1;
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
      // Partners take turns: a due row's place is its rank among its partner's candidates plus the
      // rows that partner already has sending. Oldest first across all partners, a partner whose
      // endpoint hangs filled every slot with its backlog and held everyone else's postbacks behind
      // its timeouts; in turns, it still gets every slot nobody else needs. The candidates are the
      // `limit` oldest due rows and each partner's oldest due row (found by skipping through a
      // partial index, one seek per partner with rows due), so a claim is a handful of statements
      // whose cost does not grow with one partner's backlog or the delivered history.
      const { rows: oldest } = await sql<{ id: number | string }>`select id from partner_postbacks where ${due}
        order by next_attempt_at, id limit ${limit}`.execute(db);
      if (oldest.length === 0) return [];
      const { rows: busyRows } = await sql<{ partner_id: number | string; n: number | string }>`select partner_id, count(*) as n
        from partner_postbacks where state = 'sending' and next_attempt_at > ${at} group by partner_id`.execute(db);
      // Each partner's oldest due row, for `limit` partners a claim plus one for each partner that
      // has rows sending (so at least `limit` idle partners are among them), taken in turn from where
      // the previous claim stopped (wrapping around): the work stays bounded by the slots, however
      // many partners have rows due, and none waits for ever behind lower ids.
      const firstsFrom = async (afterPartner: number, count: number) =>
        (await sql<{ id: number | string | null; partner_id: number | string | null }>`with recursive partners(partner_id) as (
            select (select p.partner_id from partner_postbacks p where p.state in ('pending', 'sending') and p.next_attempt_at <= ${at}
              and p.partner_id > ${afterPartner} order by p.partner_id limit 1)
            union all
            select (select p.partner_id from partner_postbacks p where p.state in ('pending', 'sending') and p.next_attempt_at <= ${at}
              and p.partner_id > partners.partner_id order by p.partner_id limit 1)
              from partners where partners.partner_id is not null limit ${count}
          )
          select partner_id, (select d.id from partner_postbacks d where d.partner_id = partners.partner_id and d.state in ('pending', 'sending')
            and d.next_attempt_at <= ${at} order by d.next_attempt_at, d.id limit 1) as id
          from partners where partners.partner_id is not null`.execute(db)).rows;
      const walk = limit + busyRows.length;
      let firsts = await firstsFrom(turnAfterPartner, walk);
      if (firsts.length < walk) firsts = [...firsts, ...(await firstsFrom(-1, walk - firsts.length)).filter((row) => Number(row.partner_id) <= turnAfterPartner)];
      turnAfterPartner = firsts.length < walk ? -1 : Number(firsts[firsts.length - 1]?.partner_id ?? -1);
      const candidateIds = [...new Set([...oldest, ...firsts].flatMap((row) => (row.id === null ? [] : [Number(row.id)])))];
      const { rows: candidates } = await sql<{ id: number | string; partner_id: number | string; next_attempt_at: string }>`select id, partner_id,
        next_attempt_at from partner_postbacks where id in (${sql.join(candidateIds)})`.execute(db);
      const taken = new Map(busyRows.map((row) => [Number(row.partner_id), Number(row.n)]));
      const inTurn = candidates
        .map((row) => ({ id: Number(row.id), partner: Number(row.partner_id), next: row.next_attempt_at }))
        .sort(byDue)
        .map((row) => {
          const place = (taken.get(row.partner) ?? 0) + 1;
          taken.set(row.partner, place);
          return { ...row, place };
        })
        .sort((a, b) => a.place - b.place || byDue(a, b));
      const ids = inTurn.slice(0, limit).map((row) => ({ id: row.id }));
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
    get: (id) => rowById(db, id),
  };
}

/** The outbox as the management API reads it (`GET /partner-postbacks`, `POST …/:id/retry`). */
export function sqlPostbackLog(db: Executor): PostbackLog {
  return {
    async list({ state, partnerId, conversionId, page, pageSize }) {
      const conditions = [sql`1 = 1`];
      if (state !== undefined) conditions.push(sql`state = ${state}`);
      if (partnerId !== undefined) conditions.push(sql`partner_id = ${partnerId}`);
      if (conversionId !== undefined) conditions.push(sql`conversion_id = ${conversionId}`);
      const where = sql.join(conditions, sql` and `);
      const { rows } = await sql<Row>`select * from partner_postbacks where ${where} order by id desc
        limit ${pageSize} offset ${(page - 1) * pageSize}`.execute(db);
      const counted = await sql<{ n: number | string }>`select count(*) as n from partner_postbacks where ${where}`.execute(db);
      return { rows: rows.map(fromRow), total: Number(counted.rows[0]?.n ?? 0) };
    },
    async retry(id, now) {
      const result = await sql`update partner_postbacks set state = 'pending', attempt_base = attempts, next_attempt_at = ${now.toISOString()}
        where id = ${id} and state = 'failed'`.execute(db);
      const postback = await rowById(db, id);
      return postback === undefined ? undefined : { postback, retried: changed(result) };
    },
  };
}


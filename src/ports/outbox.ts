/**
 * The durable outbox of partner postbacks (SPEC §10.4). A row is written in the same transaction as
 * its approved conversion; the dispatcher claims due rows, calls their URL and records the outcome.
 *
 * States: `pending` (due at `next_attempt_at`) → `sending` (claimed; `next_attempt_at` is then the
 * lease's end) → `delivered` | `failed`, or back to `pending` with a later `next_attempt_at`. A
 * `sending` row whose lease has expired belongs to a dispatcher that died: it is due again.
 */
export type PostbackState = 'pending' | 'sending' | 'delivered' | 'failed';

export interface PostbackRecord {
  id: number;
  conversion_id: number;
  partner_id: number;
  /** Fully expanded: macros were substituted by the producer. */
  url: string;
  state: PostbackState;
  /** Delivery attempts started (a claim counts, even if its process died before the answer); never goes down. */
  attempts: number;
  /** The attempts made before an operator last sent it again: the give-up limit counts those after. */
  attempt_base: number;
  /** ISO 8601 UTC. */
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export type NewPostback = Pick<PostbackRecord, 'conversion_id' | 'partner_id' | 'url'>;

/**
 * A row claimed for one attempt. `attempts` (already counting this one) doubles as the fencing
 * token: an outcome is recorded only while the row is still `sending` with that same count, so a
 * dispatcher that overran its lease cannot overwrite the work of the one that took the row over.
 */
export type ClaimedPostback = Pick<PostbackRecord, 'id' | 'conversion_id' | 'partner_id' | 'url' | 'attempts' | 'attempt_base'>;

export interface OutboxRepo {
  /** Adds a pending row, due at `now`. Returns its id. */
  enqueue(postback: NewPostback, now: Date): Promise<number>;
  /**
   * Atomically takes up to `limit` due rows (pending and due, or sending with an expired lease),
   * partners taking turns (fewest rows already sending first), each partner's oldest first: marks
   * them `sending` until `leaseUntil` and counts the attempt. Two callers never receive the same
   * row while its lease holds.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedPostback[]>;
  /** Each returns false (and changes nothing) when the claim was lost to another dispatcher. */
  markDelivered(claim: ClaimedPostback, now: Date): Promise<boolean>;
  reschedule(claim: ClaimedPostback, nextAttemptAt: Date, error: string): Promise<boolean>;
  markFailed(claim: ClaimedPostback, error: string): Promise<boolean>;
  /** Rows not yet settled (pending or sending): the queue depth exported as a metric. */
  depth(): Promise<number>;
  get(id: number): Promise<PostbackRecord | undefined>;
}

/** What an operator sees of the outbox through the API: postbacks by state, and a failed one sent again. */
export interface PostbackLog {
  /** Newest first. */
  list(query: { state?: PostbackState; partnerId?: number; conversionId?: number; page: number; pageSize: number }): Promise<{ rows: PostbackRecord[]; total: number }>;
  /**
   * A failed postback due again now with a fresh set of attempts (`attempts` keeps counting, as the
   * claims' fencing token must never repeat; `attempt_base` moves up to it): the row as it is after, and
   * whether it was failed (only a failed one is changed); undefined when there is no such row.
   */
  retry(id: number, now: Date): Promise<{ postback: PostbackRecord; retried: boolean } | undefined>;
}


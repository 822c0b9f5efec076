import { canonicalIp } from '../../context/ip-text.js';
import { rememberedKey, type OfferView, type Snapshot, type VisitorFacts } from '../../engine/index.js';
import type { HistoryBucket, HistoryTotal, LiveHistoryReader, VisitorRow } from '../../ports/store.js';
import { CLOCK_STEP_MS, offerScope, partnerScope, type CapMetric } from './cap-counters.js';
import type { MemoryLiveState } from './memory-live-state.js';
import { periodKeys, type PeriodKeys } from './period-key.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * How far back the daily, weekly and monthly periods can reach: a month of 31 days plus the widest
 * gap between a zone's wall clock and UTC (±14 h), rounded up. Older rows matter only to global
 * caps, which the database sums.
 */
const PERIOD_LOOKBACK_MS = 33 * 24 * HOUR_MS;

const METRICS: readonly [CapMetric, (t: HistoryTotal) => number][] = [
  ['clicks', (t) => t.clicks],
  ['conversions', (t) => t.conversions],
  ['payout', (t) => t.payoutMicros],
  ['revenue', (t) => t.revenueMicros],
];

// Addresses in the spelling clicks are remembered under now: versions before it stored what the
// listener or proxy wrote (::ffff:8.8.4.4 on a dual-stack listener), another visitor to the memory.
const factsOf = (row: VisitorRow) => ({ visitorId: row.visitorId, ip: canonicalIp(row.ip), userAgent: row.userAgent, gaid: row.gaid, idfa: row.idfa });

type Current = (zone: string) => { now: PeriodKeys; soon: PeriodKeys };
type CalendarPeriod = 'daily' | 'weekly' | 'monthly';
const CALENDAR_PERIODS: readonly CalendarPeriod[] = ['daily', 'weekly', 'monthly'];
/** Zone and minute → the period keys of that minute and the calendar periods it counts toward. */
type MinuteMemo = Map<string, { keys: PeriodKeys; calendar: readonly CalendarPeriod[] }>;

function addTotals(state: MemoryLiveState, snapshot: Snapshot, total: HistoryTotal, atMs: number, periods: 'global' | 'calendar', current: Current, memo: MinuteMemo): void {
  const zone = snapshot.offers.get(total.offerId)?.capsTimeZone ?? 'UTC';
  // Buckets arrive grouped by offer and partner, not by minute, so the period-key cache (one minute
  // per zone) would miss on nearly every bucket: formatting a date per bucket was a third of a start.
  const memoKey = `${zone}\n${atMs}`;
  let known = memo.get(memoKey);
  if (known === undefined) {
    const keys = periodKeys(atMs, zone);
    // A bucket counts toward a calendar period that is current, or begins within CLOCK_STEP_MS (this
    // clock a little behind the one that stamped the bucket): the periods the minute prune keeps.
    const { now, soon } = current(zone);
    const calendar = CALENDAR_PERIODS.filter((p) => keys[p] >= now[p] && keys[p] <= soon[p]);
    memo.set(memoKey, (known = { keys, calendar }));
  }
  const { keys, calendar } = known;
  const which = periods === 'global' ? (['global'] as const) : calendar;
  if (which.length === 0) return;
  for (const scope of [offerScope(total.offerId), partnerScope(total.offerId, total.partnerId)]) {
    for (const [metric, amount] of METRICS) state.counters.add(scope, keys, metric, amount(total), which);
  }
}

/** The stretch of an offer's clicks to remember: from `fromMs` up to `untilMs` (null: up to now and beyond). */
interface Stretch {
  fromMs: number;
  untilMs: number | null;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How long the re-reads below may hold the event loop before they give the clicks waiting a turn. */
const READ_SLICE_MS = 4;

/**
 * Gives the event loop a turn once READ_SLICE_MS of reading has passed since the last one. A turn
 * after every hour cost a turn of the loaded event loop per hour, read or empty: under click load
 * (a few ms a turn) the 792 hours of a caps_timezone recount or the 720 of a 30-day duplicate window
 * took seconds, and every other configuration change waited behind that rebuild (SPEC §3: 1 second).
 */
function turnTaker(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < READ_SLICE_MS) return;
    await nextTurn();
    since = performance.now();
  };
}

/** Where the visitors read from stored clicks go: live memory, or a stage (see MemoryLiveState.stageVisitors). */
type RememberVisitor = (offerId: number, key: string, timeMs: number) => void;

/** Most clicks one read returns: about 25 ms of reading on the main thread's connection (~5 µs a row). */
const READ_PAGE_ROWS = 5_000;
/**
 * The stretch up to now read last, in one read with no turn before the switch. Wide enough for the
 * clicks still on their way to the database while the part before it was read (a click is answered
 * only once stored, within the writer's busy timeout); clicks still unsettled at the switch are
 * keyed by `stageVisitors` itself.
 */
const TAIL_MS = 60_000;

/**
 * Reads the visitors of the clicks in each offer's stretch (`stretches`: offer id → stretch), keyed
 * by the offer's identifier in `snapshot`, into `remember`. The clicks are read once for all offers,
 * by time, an hour at a time and at most READ_PAGE_ROWS rows a read (so memory holds one page, not a
 * window), back to the earliest start: clicks carry no per-offer index, which would cost every group
 * commit one more page write per distinct offer in the batch. Each read is synchronous on the main
 * connection, so the event loop gets a turn every few ms of reading (turnTaker): a re-read while the
 * server runs must not hold up the clicks meanwhile. `bulk` reads every page but the last TAIL_MS
 * before now, `tail` those (up to now and beyond, when a stretch reaches now) with no turn before it
 * returns. The last hour read whole in one step held every click for 0.6 s at 60 clicks/s (found by
 * a soak run), and each older hour of a lengthened window as long.
 */
function visitorReads(history: LiveHistoryReader, snapshot: Snapshot, nowMs: number, stretches: ReadonlyMap<number, Stretch>, remember: RememberVisitor) {
  // A loop, not Math.min(...): a spread of one argument per offer overflows the stack past ~125,000.
  let earliest = nowMs;
  let latest: number | null = Number.NEGATIVE_INFINITY;
  for (const stretch of stretches.values()) {
    earliest = Math.min(earliest, stretch.fromMs);
    latest = latest === null || stretch.untilMs === null ? null : Math.max(latest, stretch.untilMs);
  }
  const end = latest ?? nowMs;
  const take = (rows: readonly VisitorRow[]): void => {
    for (const row of rows) {
      const stretch = stretches.get(row.offerId);
      const offer = snapshot.offers.get(row.offerId);
      const atMs = Date.parse(row.time);
      if (stretch === undefined || offer === undefined || atMs < stretch.fromMs || (stretch.untilMs !== null && atMs >= stretch.untilMs)) continue;
      const key = rememberedKey(offer.duplicateFilter.identifier, factsOf(row));
      if (key !== null) remember(offer.id, key, atMs);
    }
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  /**
   * [from, to) a page at a time, each page starting at the time of the previous one's last click:
   * the clicks of that instant are read again, which remembering twice does not change.
   */
  const readPaged = async (from: number, to: number, turn: () => Promise<void>): Promise<void> => {
    const until = iso(to);
    let cursor = iso(from);
    for (;;) {
      const rows = await history.visitorsBetween(cursor, until, READ_PAGE_ROWS);
      take(rows);
      const last = rows.at(-1)?.time;
      if (rows.length < READ_PAGE_ROWS || last === undefined) return;
      if (last === rows[0]?.time) {
        // A whole page of one instant: that instant in full, then past it.
        const past = iso(Date.parse(last) + 1);
        take(await history.visitorsBetween(last, past));
        cursor = past;
      } else cursor = last;
      await turn();
    }
  };
  const bulkEnd = latest === null ? Math.max(earliest, nowMs - TAIL_MS) : end;
  return {
    async bulk(): Promise<void> {
      if (stretches.size === 0) return;
      const turn = turnTaker();
      for (let from = earliest; from < bulkEnd; from += HOUR_MS) {
        await readPaged(from, Math.min(from + HOUR_MS, bulkEnd), turn);
        await turn();
      }
    },
    // Up to now the last slice has no upper bound, as a click stamped a moment ahead of this clock
    // still counts; a re-read that stops short of now was read whole by `bulk`.
    async tail(): Promise<void> {
      if (stretches.size > 0 && latest === null) take(await history.visitorsBetween(iso(bulkEnd), null));
    },
  };
}

/** Remembers the visitors of the clicks in each offer's stretch, straight into live memory (see visitorReads). */
async function rememberVisitors(state: MemoryLiveState, history: LiveHistoryReader, snapshot: Snapshot, nowMs: number, stretches: ReadonlyMap<number, Stretch>): Promise<void> {
  const reads = visitorReads(history, snapshot, nowMs, stretches, (offerId, key, timeMs) => state.rememberVisitor(offerId, key, timeMs));
  await reads.bulk();
  await reads.tail();
}

const windowStartMs = (offer: OfferView, nowMs: number) => nowMs - offer.duplicateFilter.windowHours * HOUR_MS;

/**
 * The offers whose duplicate memory no longer covers what their filter asks after a configuration
 * change, and the stretch of stored clicks each lacks. A longer window needs the visitors of its
 * older part, which memory has already pruned (the part the old window covered is still held);
 * another identifier needs the whole window, keyed by its kind.
 */
function lackingStretches(previous: Snapshot, next: Snapshot, nowMs: number): Map<number, Stretch> {
  const stretches = new Map<number, Stretch>();
  for (const offer of next.offers.values()) {
    const before = previous.offers.get(offer.id);
    if (before === undefined) continue;
    const fromMs = windowStartMs(offer, nowMs);
    if (offer.duplicateFilter.identifier !== before.duplicateFilter.identifier) stretches.set(offer.id, { fromMs, untilMs: null });
    // The first hour the old window still holds is read again: memory goes on pruning by the old
    // window while the older part is read, and would drop the visitors at its edge for good.
    else if (offer.duplicateFilter.windowHours > before.duplicateFilter.windowHours) stretches.set(offer.id, { fromMs, untilMs: windowStartMs(before, nowMs) + HOUR_MS });
  }
  return stretches;
}

/**
 * Before a configuration change takes effect: the visitors memory lacks for the new duplicate filters
 * (see lackingStretches), read from the stored clicks while the previous configuration still serves.
 * Read after the switch, the new identifier (or the longer window) served meanwhile with that part of
 * its memory missing, and a visitor who had clicked within the window was routed as new until the
 * read finished (seconds on a big history). `finish` reads the last hour, right before the switch,
 * and returns the step that adds every visitor read: run it in the same synchronous step as the
 * switch to `next`.
 */
export async function prepareVisitorMemory(state: MemoryLiveState, history: LiveHistoryReader, previous: Snapshot, next: Snapshot, nowMs: number): Promise<{ finish(): Promise<() => void> }> {
  const stretches = lackingStretches(previous, next, nowMs);
  const keyOf = (offerId: number, visitor: VisitorFacts) => {
    const offer = next.offers.get(offerId);
    return offer === undefined ? null : rememberedKey(offer.duplicateFilter.identifier, visitor);
  };
  const staged = state.stageVisitors(new Set(stretches.keys()), keyOf);
  const reads = visitorReads(history, next, nowMs, stretches, staged.remember);
  await reads.bulk();
  return {
    async finish() {
      await reads.tail();
      return staged.apply;
    },
  };
}

/**
 * Before a configuration change takes effect: offers whose caps time zone changes have their daily,
 * weekly and monthly counters recounted from the stored clicks and conversions in the new zone, as a
 * restart would. Counted under the old zone's keys, the new zone's current day started empty (or with
 * the wrong hours), and a hard cap already reached there let traffic through until the next restart.
 * The history is read while the previous configuration still serves (its clicks counted under the
 * old zone, as before the change), an hour at a time with a turn for the clicks every few ms of reading (one
 * read of 33 days held the event loop for seconds), and the last hour up to now in one read right
 * before the counters are swapped. Returns the swap, to run in the same synchronous step as the
 * switch to `next`: a click served meanwhile under the new zone would find its period empty.
 */
export async function prepareCapPeriods(state: MemoryLiveState, history: LiveHistoryReader, previous: Snapshot, next: Snapshot, now: () => number): Promise<(() => void) | undefined> {
  const moved = new Set<number>();
  for (const offer of next.offers.values()) {
    const before = previous.offers.get(offer.id);
    if (before !== undefined && before.capsTimeZone !== offer.capsTimeZone) moved.add(offer.id);
  }
  if (moved.size === 0) return undefined;
  const iso = (ms: number) => new Date(ms).toISOString();
  const tailFromMs = now() - HOUR_MS;
  const buckets: HistoryBucket[] = [];
  // What the rows read add up to in each period of the previous zone (scope|period key|metric → sum).
  const storedBefore = new Map<string, number>();
  const keysBefore = new Map<string, PeriodKeys>();
  const take = (bucket: HistoryBucket) => {
    if (!moved.has(bucket.offerId)) return;
    buckets.push(bucket);
    const zone = previous.offers.get(bucket.offerId)?.capsTimeZone ?? 'UTC';
    const memoKey = `${zone}\n${bucket.minute}`;
    let keys = keysBefore.get(memoKey);
    if (keys === undefined) keysBefore.set(memoKey, (keys = periodKeys(Date.parse(`${bucket.minute}:00.000Z`), zone)));
    for (const scope of [offerScope(bucket.offerId), partnerScope(bucket.offerId, bucket.partnerId)]) {
      for (const period of CALENDAR_PERIODS) {
        for (const [metric, amount] of METRICS) {
          const key = `${scope}|${keys[period]}|${metric}`;
          storedBefore.set(key, (storedBefore.get(key) ?? 0) + amount(bucket));
        }
      }
    }
  };
  const turn = turnTaker();
  for (let from = tailFromMs - PERIOD_LOOKBACK_MS; from < tailFromMs; from += HOUR_MS) {
    for (const bucket of await history.bucketsBetween(iso(from), iso(Math.min(from + HOUR_MS, tailFromMs)))) take(bucket);
    await turn();
  }
  for (const bucket of await history.bucketsBetween(iso(tailFromMs), null)) take(bucket);
  // From here on one synchronous step with the switch: no click is counted between dropping and recounting.
  return () => {
    const nowMs = now();
    // Clicks and conversions are counted when routed or reported and committed a moment later by the
    // writer thread: what memory holds in a current period beyond the rows read is in flight, and
    // would be lost with the recount (a hard cap then let as many more through). It moves to the
    // new zone's current period, where those events (made now) belong.
    const inFlight: { scope: string; keys: PeriodKeys; period: CalendarPeriod; metric: CapMetric; amount: number }[] = [];
    for (const { scope, offerId } of state.counters.scopesOf(moved)) {
      const oldNow = periodKeys(nowMs, previous.offers.get(offerId)?.capsTimeZone ?? 'UTC');
      const newNow = periodKeys(nowMs, next.offers.get(offerId)?.capsTimeZone ?? 'UTC');
      for (const period of CALENDAR_PERIODS) {
        for (const [metric] of METRICS) {
          const amount = state.counters.used(scope, oldNow[period], metric) - (storedBefore.get(`${scope}|${oldNow[period]}|${metric}`) ?? 0);
          if (amount > 0) inFlight.push({ scope, keys: newNow, period, metric, amount });
        }
      }
    }
    const current = currentPeriods(nowMs);
    state.counters.dropCalendar(moved);
    const memo: MinuteMemo = new Map();
    for (const bucket of buckets) addTotals(state, next, bucket, Date.parse(`${bucket.minute}:00.000Z`), 'calendar', current, memo);
    for (const { scope, keys, period, metric, amount } of inFlight) state.counters.add(scope, keys, metric, amount, [period]);
  };
}

/** The current and soon-current periods of each zone at `nowMs`, computed once per zone. */
function currentPeriods(nowMs: number): Current {
  const currentByZone = new Map<string, { now: PeriodKeys; soon: PeriodKeys }>();
  return (zone) => {
    let keys = currentByZone.get(zone);
    if (keys === undefined) currentByZone.set(zone, (keys = { now: periodKeys(nowMs, zone), soon: periodKeys(nowMs + CLOCK_STEP_MS, zone) }));
    return keys;
  };
}

/**
 * Rebuilds caps counters, duplicate memory and already-converted memory from what is stored, so
 * they survive restarts (SPEC §8, §9, §12.1). Reservations of clicks that were never acknowledged
 * died with the process; acknowledged clicks are stored; so afterwards every counter equals the
 * count recomputed from stored rows. Reads: all-time sums per (offer, partner) from the database,
 * per-minute sums of the last 33 days (to place them in each zone's current day, week and month),
 * and the clicks inside each offer's duplicate window.
 */
export async function rebuildLiveState(state: MemoryLiveState, history: LiveHistoryReader, snapshot: Snapshot, nowMs: number): Promise<void> {
  const current = currentPeriods(nowMs);
  const atNow: MinuteMemo = new Map();
  for (const total of await history.totals()) addTotals(state, snapshot, total, nowMs, 'global', current, atNow);
  // A day at a time: a busy network has about one bucket per click (a minute × an offer × a
  // partner), and all 33 days' at once held ~650 MB per million clicks until the start was over.
  for (let from = nowMs - PERIOD_LOOKBACK_MS; ; from += DAY_MS) {
    const last = from + DAY_MS >= nowMs;
    const memo: MinuteMemo = new Map();
    for (const bucket of await history.bucketsBetween(new Date(from).toISOString(), last ? null : new Date(from + DAY_MS).toISOString())) {
      addTotals(state, snapshot, bucket, Date.parse(`${bucket.minute}:00.000Z`), 'calendar', current, memo);
    }
    if (last) break;
  }
  const everyWindow = new Map([...snapshot.offers.values()].map((offer) => [offer.id, { fromMs: windowStartMs(offer, nowMs), untilMs: null }]));
  await rememberVisitors(state, history, snapshot, nowMs, everyWindow);
  for (const row of await history.convertedVisitors()) state.markConverted(row.offerId, factsOf(row));
  // Soft caps are not marked as notified here: whether a period's notification was stored is in the
  // store alone (a cap lowered below its use, or a crash before the insert, leaves none), and its
  // unique key turns a repeat into nothing (see server.ts).
}

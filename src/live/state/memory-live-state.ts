import { transactionTimeMs } from '../../domain/click.js';
import type { CapNotification } from '../../domain/notification.js';
import {
  VISITOR_IDENTIFIERS, rememberedKey, type CapView, type OfferView, type Snapshot, type StateView, type VisitorFacts,
} from '../../engine/index.js';
import type {
  CapUsage, CountedClick, CountedConversion, LiveState, NotificationSink, Reservation,
} from '../../ports/live-state.js';
import { CapCounters, offerOfScope, offerScope, partnerScope, type CapMetric } from './cap-counters.js';
import { periodKeys, type PeriodKeys } from './period-key.js';
import { visitorHasher } from './visitor-hash.js';

const HOUR_MS = 3_600_000;
const CLICK_METRICS: readonly CapMetric[] = ['clicks'];
const CONVERSION_METRICS: readonly CapMetric[] = ['conversions', 'payout', 'revenue'];
const settled: Reservation = Object.freeze({ confirm: () => undefined, release: () => undefined });
const COOKIE_PREFIX = 'cookie:';

/**
 * A `cookie` key names the earlier click whose offer cookie the visitor sent back, and that click's
 * transaction id carries its time: whether it falls within the window needs no memory at all. So
 * cookie keys — one per routed click, the default identifier — are never stored (only keys of
 * another shape, which real clicks do not make, fall back to memory).
 */
function cookieClickTimeMs(key: string): number | null {
  return key.startsWith(COOKIE_PREFIX) ? transactionTimeMs(key.slice(COOKIE_PREFIX.length)) : null;
}

export interface MemoryLiveStateOptions {
  /** The current configuration: caps, their time zone, duplicate windows. */
  snapshot: () => Snapshot;
  onNotification?: NotificationSink;
}

/** A reservation that runs exactly one of its two endings, once. */
function reservation(onConfirm: () => void, onRelease: () => void): Reservation {
  let open = true;
  return {
    confirm() {
      if (open) (open = false), onConfirm();
    },
    release() {
      if (open) (open = false), onRelease();
    },
  };
}

/**
 * The embedded LiveState: plain Maps in this process (SPEC §8, §9, single node). Node runs each
 * click's synchronous part alone, so `decide` (which reads caps through `viewAt`) and
 * `reserveClick` in the same turn form one atomic check-and-increment. Restarts rebuild it from
 * stored clicks and conversions (see rebuild.ts).
 */
export class MemoryLiveState implements LiveState {
  readonly counters = new CapCounters();
  /** offer id → hashed visitor key → time of its last counted click (ms). */
  private readonly lastSeen = new Map<number, Map<number, number>>();
  /** Clicks counted whose write has not settled yet (see stageVisitors), each with what undoes its memory. */
  private readonly unsettled = new Map<CountedClick, (() => void)[]>();
  /** offer id → hashed visitor keys that converted on it. */
  private readonly converted = new Map<number, Set<number>>();
  private readonly hash = visitorHasher();
  /** Soft caps already notified in their current period, by dedupe key → that period's key. */
  private readonly notified = new Map<string, string>();

  constructor(private readonly options: MemoryLiveStateOptions) {}

  viewAt(nowMs: number): StateView {
    return {
      capReached: (offerId, partnerId) => this.capReached(offerId, partnerId, nowMs),
      isDuplicate: (offerId, key, windowHours) => {
        const last = this.lastClickAt(offerId, key);
        return last !== null && nowMs - last < windowHours * HOUR_MS;
      },
      alreadyConverted: (offerId, key) => this.converted.get(offerId)?.has(this.hash(key)) ?? false,
    };
  }

  reserveClick(click: CountedClick): Reservation {
    const offer = this.options.snapshot().offers.get(click.offerId);
    if (offer === undefined) return settled;
    const keys = periodKeys(click.timeMs, offer.capsTimeZone);
    const scopes = [offerScope(click.offerId), partnerScope(click.offerId, click.partnerId)];
    for (const scope of scopes) this.counters.add(scope, keys, 'clicks', 1);
    const undoMemory = [this.remember(offer, click)];
    this.unsettled.set(click, undoMemory);
    return reservation(
      () => {
        this.unsettled.delete(click);
        this.notifySoftCaps(offer, click.partnerId, keys, CLICK_METRICS, click.timeMs);
      },
      () => {
        this.unsettled.delete(click);
        const now = this.keysNow(offer, click.timeMs, keys);
        for (const scope of scopes) this.counters.add(scope, now, 'clicks', -1);
        // Also the marks a configuration change added meanwhile under another identifier (stageVisitors).
        for (const undo of undoMemory.reverse()) undo();
      },
    );
  }

  reserveConversion(conversion: CountedConversion): { overHardCap: boolean; reservation: Reservation } {
    const offer = this.options.snapshot().offers.get(conversion.offerId);
    if (offer === undefined) return { overHardCap: false, reservation: settled };
    const keys = periodKeys(conversion.timeMs, offer.capsTimeZone);
    const amounts: Record<CapMetric, number> = {
      clicks: 0,
      conversions: conversion.base ? 1 : 0,
      payout: conversion.payoutMicros,
      revenue: conversion.revenueMicros,
    };
    const caps = this.capsOf(offer, conversion.partnerId);
    // Over = the cap is already reached, or this conversion would take the counter past it. A cap
    // this conversion adds nothing to (an event on a conversions cap, no payout on a payout cap)
    // is not one it arrives over: it costs the advertiser nothing more.
    const overHardCap = caps.some(({ scope, cap }) => {
      if (cap.mode !== 'hard' || cap.metric === 'clicks' || amounts[cap.metric] === 0) return false;
      const used = this.counters.used(scope, keys[cap.period], cap.metric);
      return used >= cap.limit || used + amounts[cap.metric] > cap.limit;
    });
    const scopes = [offerScope(conversion.offerId), partnerScope(conversion.offerId, conversion.partnerId)];
    const apply = (at: PeriodKeys, sign: 1 | -1) => {
      for (const scope of scopes) for (const metric of CONVERSION_METRICS) this.counters.add(scope, at, metric, sign * amounts[metric]);
    };
    apply(keys, 1);
    return {
      overHardCap,
      reservation: reservation(
        () => this.notifySoftCaps(offer, conversion.partnerId, keys, CONVERSION_METRICS, conversion.timeMs),
        () => apply(this.keysNow(offer, conversion.timeMs, keys), -1),
      ),
    };
  }

  markConverted(offerId: number, visitor: VisitorFacts): void {
    let keys = this.converted.get(offerId);
    if (keys === undefined) this.converted.set(offerId, (keys = new Set()));
    for (const identifier of VISITOR_IDENTIFIERS) {
      const key = rememberedKey(identifier, visitor);
      if (key !== null) keys.add(this.hash(key));
    }
  }

  lastClickAt(offerId: number, key: string): number | null {
    return cookieClickTimeMs(key) ?? this.lastSeen.get(offerId)?.get(this.hash(key)) ?? null;
  }

  capUsage(offerId: number, partnerId: number, nowMs: number): CapUsage[] {
    const offer = this.options.snapshot().offers.get(offerId);
    if (offer === undefined) return [];
    const keys = periodKeys(nowMs, offer.capsTimeZone);
    return this.capsOf(offer, partnerId).map(({ scope, cap }) => ({
      ...cap,
      scope: scope.startsWith('o') ? 'offer' : 'partner',
      periodKey: keys[cap.period],
      used: this.counters.used(scope, keys[cap.period], cap.metric),
    }));
  }

  /** Remembers a counted click's visitor at `timeMs` (restarts: the same from a stored click). */
  rememberVisitor(offerId: number, key: string, timeMs: number): void {
    if (cookieClickTimeMs(key) === null) this.rememberHashed(offerId, this.hash(key), timeMs);
  }

  /**
   * Visitors gathered while the previous configuration still serves (see prepareVisitorMemory in
   * rebuild.ts): `remember` holds them aside, `apply` adds them to memory, in the synchronous step
   * that switches to the configuration whose filters they are keyed for. `apply` also keys, by
   * `keyOf`, the clicks of `offers` counted but not yet stored: the stored clicks read cannot hold
   * them, and remembered only under the previous identifier they were forgotten by the change.
   */
  stageVisitors(
    offers: ReadonlySet<number>,
    keyOf: (offerId: number, visitor: VisitorFacts) => string | null,
  ): { remember(offerId: number, key: string, timeMs: number): void; apply(): void } {
    const staged = new Map<number, Map<number, number>>();
    const remember = (offerId: number, key: string, timeMs: number): void => {
      if (cookieClickTimeMs(key) !== null) return;
      let seen = staged.get(offerId);
      if (seen === undefined) staged.set(offerId, (seen = new Map()));
      const hashed = this.hash(key);
      const last = seen.get(hashed);
      if (last === undefined || last < timeMs) seen.set(hashed, timeMs);
    };
    return {
      remember,
      apply: () => {
        for (const [offerId, seen] of staged) for (const [hashed, timeMs] of seen) this.rememberHashed(offerId, hashed, timeMs);
        staged.clear();
        // After the stored visitors, and undone with the click if its write then fails: a click never
        // stored must not leave its visitor remembered under the new identifier either.
        for (const [click, undos] of this.unsettled) {
          const key = offers.has(click.offerId) ? keyOf(click.offerId, click.visitor) : null;
          if (key !== null) undos.push(this.rememberKey(click.offerId, key, click.timeMs));
        }
      },
    };
  }

  private rememberHashed(offerId: number, hashed: number, timeMs: number): void {
    let seen = this.lastSeen.get(offerId);
    if (seen === undefined) this.lastSeen.set(offerId, (seen = new Map()));
    const last = seen.get(hashed);
    if (last !== undefined && last >= timeMs) return;
    // Re-inserted, not updated in place: a Map iterates in insertion order, so visitors stay in the
    // order of their last clicks and `prune` stops at the first one still inside the window.
    if (last !== undefined) seen.delete(hashed);
    seen.set(hashed, timeMs);
  }

  /** Forgets what no current period or window needs; run every minute or so. */
  prune(nowMs: number): void {
    const snapshot = this.options.snapshot();
    for (const [offerId, seen] of this.lastSeen) {
      const offer = snapshot.offers.get(offerId);
      if (offer === undefined) {
        this.lastSeen.delete(offerId);
        continue;
      }
      const windowMs = offer.duplicateFilter.windowHours * HOUR_MS;
      // Oldest first (see rememberHashed): only the expired visitors are visited, not the millions a
      // busy offer remembers, which cost the event loop ~10–25 ms per million each minute. A clock
      // step backwards or an undone click leaves a visitor out of order, which only delays forgetting
      // it; isDuplicate checks the window itself.
      for (const [key, last] of seen) {
        if (nowMs - last < windowMs) break;
        seen.delete(key);
      }
    }
    const zoneOf = (scope: string) => snapshot.offers.get(offerOfScope(scope))?.capsTimeZone;
    this.counters.prune(nowMs, zoneOf);
    for (const [key, periodKey] of this.notified) {
      const scope = key.split('|')[0] ?? '';
      const zone = zoneOf(scope);
      const current = zone === undefined ? undefined : periodKeys(nowMs, zone);
      if (periodKey !== 'global' && (current === undefined || !Object.values(current).includes(periodKey))) this.notified.delete(key);
    }
  }

  private capReached(offerId: number, partnerId: number, nowMs: number): boolean {
    const snapshot = this.options.snapshot();
    const offer = snapshot.offers.get(offerId);
    if (offer === undefined) return false;
    const keys = periodKeys(nowMs, offer.capsTimeZone);
    if (this.counters.hardCapReached(offerScope(offerId), offer.caps, keys)) return true;
    const access = snapshot.access.get(offerId)?.get(partnerId);
    return access !== undefined && this.counters.hardCapReached(partnerScope(offerId, partnerId), access.caps, keys);
  }

  /** The offer's caps and, with a partner, that partner's caps on it, each with its counter scope. */
  private capsOf(offer: OfferView, partnerId: number | null): { scope: string; cap: CapView }[] {
    const caps = offer.caps.map((cap) => ({ scope: offerScope(offer.id), cap }));
    if (partnerId === null) return caps;
    const access = this.options.snapshot().access.get(offer.id)?.get(partnerId);
    for (const cap of access?.caps ?? []) caps.push({ scope: partnerScope(offer.id, partnerId), cap });
    return caps;
  }

  /**
   * Where a reservation made with `keys` under `offer`'s caps time zone is counted now. A
   * caps_timezone change while its write was in flight moved the count to the new zone's current
   * periods (prepareCapPeriods in rebuild.ts); a release taken off the old zone's keys left it there,
   * and a click never stored held a hard cap reached until the next restart.
   */
  private keysNow(offer: OfferView, timeMs: number, keys: PeriodKeys): PeriodKeys {
    const zone = this.options.snapshot().offers.get(offer.id)?.capsTimeZone ?? offer.capsTimeZone;
    return zone === offer.capsTimeZone ? keys : periodKeys(timeMs, zone);
  }

  /** Records the click's visitor under the offer's identifier; returns how to undo exactly that. */
  private remember(offer: OfferView, click: CountedClick): () => void {
    const key = rememberedKey(offer.duplicateFilter.identifier, click.visitor);
    return key === null ? () => undefined : this.rememberKey(offer.id, key, click.timeMs);
  }

  /** Remembers a click's visitor under `key`; returns what undoes that mark. */
  private rememberKey(offerId: number, key: string, timeMs: number): () => void {
    if (cookieClickTimeMs(key) !== null) return () => undefined;
    const hashed = this.hash(key);
    const previous = this.lastSeen.get(offerId)?.get(hashed);
    if (previous !== undefined && previous >= timeMs) return () => undefined;
    this.rememberHashed(offerId, hashed, timeMs);
    return () => {
      const seen = this.lastSeen.get(offerId);
      // Undo only our own mark: a later click of the same visitor keeps its memory.
      if (seen?.get(hashed) !== timeMs) return;
      if (previous === undefined) seen.delete(hashed);
      else seen.set(hashed, previous);
    };
  }

  private notifySoftCaps(offer: OfferView, partnerId: number, keys: PeriodKeys, metrics: readonly CapMetric[], timeMs: number): void {
    const sink = this.options.onNotification;
    for (const { scope, cap } of this.capsOf(offer, partnerId)) {
      if (cap.mode !== 'soft' || !metrics.includes(cap.metric)) continue;
      const periodKey = keys[cap.period];
      const used = this.counters.used(scope, periodKey, cap.metric);
      const dedupeKey = notificationKey(scope, cap, periodKey);
      if (used < cap.limit || this.notified.has(dedupeKey)) continue;
      this.notified.set(dedupeKey, periodKey);
      const notification: CapNotification = {
        kind: 'soft_cap_reached',
        time: new Date(timeMs).toISOString(),
        scope: scope === offerScope(offer.id) ? 'offer' : 'partner',
        offer_id: offer.id,
        partner_id: scope === offerScope(offer.id) ? null : partnerId,
        metric: cap.metric,
        period: cap.period,
        period_key: periodKey,
        limit: cap.limit,
        used,
      };
      sink?.(notification, dedupeKey);
    }
  }
}

/** One soft cap in one period: the unit notified at most once. */
function notificationKey(scope: string, cap: CapView, periodKey: string): string {
  return `${scope}|${cap.metric}|${cap.period}|${cap.limit}|${periodKey}`;
}

import type { CapNotification } from '../domain/notification.js';
import type { CapView, StateView, VisitorFacts } from '../engine/index.js';

/** A counted click or conversion not yet known to be stored: confirmed once durable, released if not. */
export interface Reservation {
  /** The event is stored: keep it counted (and emit soft-cap notifications it caused). */
  confirm(): void;
  /** The event was not stored: undo its counts and memory. Idempotent; a no-op after confirm. */
  release(): void;
}

/** A click that reached an offer (outcome routed, catch_all or fail_traffic). */
export interface CountedClick {
  offerId: number;
  partnerId: number;
  timeMs: number;
  visitor: VisitorFacts;
}

/** A conversion about to be stored approved or pending. */
export interface CountedConversion {
  offerId: number;
  partnerId: number;
  timeMs: number;
  /** A base conversion (no event id): the only kind conversion caps count. */
  base: boolean;
  payoutMicros: number;
  revenueMicros: number;
}

/** One cap with its counter for the current period, for explain. Money in micros. */
export interface CapUsage extends CapView {
  scope: 'offer' | 'partner';
  periodKey: string;
  used: number;
}

/**
 * Caps counters, duplicate memory and already-converted memory (SPEC §8, §9), shared by every
 * click and conversion. Synchronous by design: the engine asks its StateView during `decide`, and
 * the check and the reservation that follows must happen in the same turn of the event loop, with
 * no other click in between (that is what makes a hard cap exact on one node). A shared backend
 * (Redis) implements the same port with a local view and atomic scripts.
 */
export interface LiveState {
  /** The read-only view the engine asks, as of `nowMs` (the click's time). */
  viewAt(nowMs: number): StateView;
  /** Counts a click toward the offer and partner caps and remembers its visitor. Call in the turn of `decide`. */
  reserveClick(click: CountedClick): Reservation;
  /**
   * Counts a conversion toward money and conversion caps, and says whether it is over a hard cap
   * (the caller then stores it `pending`). Check and count are one atomic step.
   */
  reserveConversion(conversion: CountedConversion): { overHardCap: boolean; reservation: Reservation };
  /** Remembers that the click's visitor converted on the offer, under every identifier it carries. */
  markConverted(offerId: number, visitor: VisitorFacts): void;
  /**
   * When the visitor (by `lastClickKey`) last clicked the offer, or null if nothing is remembered
   * (read-only, for explain). Only the latest click is kept, so an earlier one cannot be asked for.
   */
  lastClickAt(offerId: number, key: string): number | null;
  /** The offer's and this partner's caps with their current usage (read-only, for explain). */
  capUsage(offerId: number, partnerId: number, nowMs: number): CapUsage[];
}

/** Where soft-cap notifications go (log, metrics, storage); called synchronously, must not throw. */
export type NotificationSink = (notification: CapNotification, dedupeKey: string) => void;

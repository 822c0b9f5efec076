import type { ClickDevice, ClickGeo } from '../domain/click.js';

/** Geo facts about the visitor; `time_zone` (IANA) feeds day parting in the visitor's zone. */
export interface VisitorGeo extends ClickGeo {
  time_zone: string | null;
}

/** What a browser's offer cookie tells of it on that offer. */
export interface OfferCookieIds {
  /** Its latest click there: the one a pixel conversion is attributed to, and whose time the duplicate window runs from. */
  readonly transactionId: string;
  /** Its visitor id there: the transaction id of its first click, which conversions are remembered under. */
  readonly visitorId: string;
}

/**
 * Everything the engine knows about one click, already parsed at the edge (SPEC §4.2).
 * Unknown values are null; the engine never parses user agents or looks up addresses itself.
 */
export interface ClickContext {
  transaction_id: string;
  /** Click time in epoch milliseconds: the only clock the engine reads. */
  time_ms: number;
  ip: string | null;
  user_agent: string | null;
  device: ClickDevice;
  is_bot: boolean;
  geo: VisitorGeo;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  source_id: string | null;
  /** The `url=` deep-link request, unvalidated. */
  deep_link: string | null;
  idfa: string | null;
  gaid: string | null;
  /** What each offer cookie the browser holds carries, by offer id (the `cookie` identifier of SPEC §9). */
  offer_cookies: ReadonlyMap<number, OfferCookieIds>;
}

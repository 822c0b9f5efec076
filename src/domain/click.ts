/** How a click ended (SPEC §2). */
export const CLICK_OUTCOMES = ['routed', 'catch_all', 'fail_traffic', 'no_match', 'invalid'] as const;
export type ClickOutcome = (typeof CLICK_OUTCOMES)[number];

/** SPEC §6's canonical device types and operating systems: what visitors are parsed to and rules name. */
export const DEVICE_TYPES = ['mobile', 'tablet', 'desktop', 'bot', 'other'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export const OPERATING_SYSTEMS = ['iOS', 'Android', 'Windows', 'macOS', 'Linux', 'ChromeOS', 'other'] as const;
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];
/** The browser names SPEC §6 gives; others keep the name the user-agent parser found. */
export const NAMED_BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet', 'Opera'] as const;
/**
 * The user-agent parser's names for the variants of the named browsers, and the family each is
 * recorded as. A rule naming a variant could never match: no visitor is recorded under it.
 */
export const BROWSER_FAMILIES: Readonly<Record<string, (typeof NAMED_BROWSERS)[number]>> = {
  'Mobile Safari': 'Safari', Safari: 'Safari',
  Chrome: 'Chrome', 'Chrome WebView': 'Chrome', 'Chrome Headless': 'Chrome', 'Mobile Chrome': 'Chrome', Chromium: 'Chrome',
  Firefox: 'Firefox', 'Mobile Firefox': 'Firefox',
  Edge: 'Edge', 'Samsung Browser': 'Samsung Internet',
  Opera: 'Opera', 'Opera Mini': 'Opera', 'Opera Mobi': 'Opera', 'Opera Touch': 'Opera', 'Opera GX': 'Opera',
};

export interface SkippedEntry {
  entry_id: number;
  reason: number;
}

/** The visitor's device and language as parsed from the request; null where unknown. */
export interface ClickDevice {
  os: string | null;
  os_version: string | null;
  device_type: DeviceType | null;
  browser: string | null;
  brand: string | null;
  language: string | null;
}

export interface ClickGeo {
  country: string | null;
  region: string | null;
  city: string | null;
}

/** One recorded click with its routing trace: what the durable writer stores. */
export interface ClickRecord {
  /** 32 lower-case hex characters, random. */
  transaction_id: string;
  /** ISO 8601 UTC. */
  time: string;
  smart_link_id: number;
  partner_id: number;
  tracking_token: string;
  entry_id: number | null;
  offer_id: number | null;
  offer_url_id: number | null;
  advertiser_id: number | null;
  outcome: ClickOutcome;
  /** Reason code of the outcome (e.g. 20 no match, 901 paused link, 906 suspended partner); null when routed normally. */
  reason: number | null;
  skipped: SkippedEntry[];
  is_unique: boolean;
  ip: string | null;
  user_agent: string | null;
  device: ClickDevice;
  geo: ClickGeo;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  source_id: string | null;
  /** Device advertising ids from the tracking URL (`idfa=`, `gaid=`): duplicate-filter identifiers. */
  idfa: string | null;
  gaid: string | null;
  /**
   * The browser's identity on the offer, which its offer cookie carries: the transaction id of its
   * first click there (this click's own on a first visit). The `cookie` identifier of SPEC §9.
   */
  visitor_id: string;
  /** Where the visitor was sent; null for a blank page. */
  destination: string | null;
  /** A `url=` deep link the visitor asked for: `used`, or `rejected` for the offer's own destination; null when none was asked. */
  deep_link: 'used' | 'rejected' | null;
  kpi_run_id: number | null;
}

const TRANSACTION_ID = /^[0-9a-f]{32}$/;

/**
 * The click time a transaction id carries in its first 12 hex characters (see
 * src/http/redirect/transaction-id.ts), or null for an id not of that shape.
 */
export function transactionTimeMs(transactionId: string): number | null {
  return TRANSACTION_ID.test(transactionId) ? parseInt(transactionId.slice(0, 12), 16) : null;
}

import type { Static } from '@sinclair/typebox';
import type { AdvertiserFields } from './schemas/advertiser.js';
import type { OfferFields } from './schemas/offer.js';
import type { OfferUrlFields } from './schemas/offer-url.js';
import type { PartnerFields } from './schemas/partner.js';
import type { TrackingDomainFields } from './schemas/tracking-domain.js';
import type { Entry, SmartLinkFields } from './schemas/smart-link.js';
import type { Cap } from './schemas/offer.js';
import type { ACCESS_STATES } from './schemas/offer-access.js';

/** Bookkeeping every stored resource carries. */
export interface Meta {
  id: number;
  version: number;
  created_at: string;
  updated_at: string;
}

/** The storable part of a record: everything but Meta. */
export type Body<R> = Omit<R, keyof Meta>;

export type AdvertiserRecord = Meta & Static<typeof AdvertiserFields>;

/** The offer as stored: the postback secret only as a hash. */
export type OfferRecord = Meta &
  Omit<Static<typeof OfferFields>, 'postback_secret'> & { postback_secret_hash: string | null };

export type OfferUrlRecord = Meta & Static<typeof OfferUrlFields> & { offer_id: number };
export type PartnerRecord = Meta & Static<typeof PartnerFields>;
export type TrackingDomainRecord = Meta & Static<typeof TrackingDomainFields>;

export type SmartLinkRecord = Meta & Omit<Static<typeof SmartLinkFields>, 'entries'> & { entries: Entry[] };
/** A smart link about to be stored: entries without an id get a fresh one. */
export type SmartLinkBody = Omit<SmartLinkRecord, keyof Meta | 'entries'> & {
  entries: (Omit<Entry, 'id'> & { id?: number | undefined })[];
};

export type AccessState = (typeof ACCESS_STATES)[number];
export interface OfferAccessRecord {
  offer_id: number;
  partner_id: number;
  state: AccessState;
  caps: Cap[];
  version: number;
  updated_at: string;
}

export type Role = 'admin' | 'partner';
export interface ApiKeyRecord {
  id: number;
  role: Role;
  partner_id: number | null;
  secret_hash: string;
  created_at: string;
}

export interface SettingsRecord {
  global_fail_redirect_url: string | null;
  version: number;
}

/** A partner's personal URL for one smart link; the token is the only thing in the URL. */
export interface TrackingLinkRecord {
  token: string;
  smart_link_id: number;
  partner_id: number;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  created_at: string;
}

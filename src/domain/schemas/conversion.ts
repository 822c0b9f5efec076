import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Id, PageQuery, StringEnum } from './common.js';

export const CONVERSION_STATUSES = ['approved', 'pending', 'rejected'] as const;

/** Longest accepted free-text parameter of a postback or pixel; longer is a 400, never truncated. */
export const MAX_PARAM_LENGTH = 512;

const Param = (description: string) => Type.Optional(Type.String({ maxLength: MAX_PARAM_LENGTH, description }));

/** What postbacks and pixels share: the sale amount, event, order and advertiser sub-values. */
const ConversionDetails = Type.Object({
  amount: Type.Optional(
    Type.String({
      // Zeros past the fourth place change nothing (printf's `%f` writes `19.990000`).
      pattern: '^\\d{1,15}(\\.\\d{1,4}0{0,20})?$',
      description:
        'Sale amount: a non-negative decimal with at most 4 significant places, e.g. `19.99` (`19.990000` is the same). Percent payouts and revenues are taken of it.',
    }),
  ),
  event_id: Param('Absent = the base conversion; otherwise the name of a post-conversion event.'),
  order_id: Param('The advertiser\'s order id; part of the idempotency key.'),
  adv1: Param('Free value from the advertiser, stored with the conversion.'),
  adv2: Param('Free value from the advertiser.'),
  adv3: Param('Free value from the advertiser.'),
  adv4: Param('Free value from the advertiser.'),
  adv5: Param('Free value from the advertiser.'),
});

/**
 * A server postback (SPEC §10.1), from the query string or a form/JSON body. Every value is text
 * (JSON numbers are turned into their text first, so amounts stay exact); empty values and
 * unfilled macros such as `{amount}` count as absent; unknown parameters are ignored, because advertisers' platforms add their own.
 */
export const PostbackInput = Type.Composite([
  Type.Object({
    transaction_id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'The click\'s transaction id: 32 lowercase hex characters.' }),
    verification_token: Param('Required when the offer has a postback secret.'),
  }),
  ConversionDetails,
]);
export type PostbackInput = Static<typeof PostbackInput>;

/** A cookie pixel (SPEC §10.2): the transaction id comes from the offer's cookie on this host. */
export const PixelInput = Type.Composite([Type.Object({ offer_id: Type.String({ pattern: '^[1-9]\\d{0,14}$' }) }), ConversionDetails]);
export type PixelInput = Static<typeof PixelInput>;

export const PostbackAnswer = Type.Object({
  status: StringEnum([...CONVERSION_STATUSES, 'duplicate'] as const),
  conversion_id: Id,
});

const Text = Type.Union([Type.String(), Type.Null()]);
const MaybeId = Type.Union([Id, Type.Null()]);
const Amount = Type.Number({ description: 'Exact decimal (up to 6 places: percent results are kept to the millionth).' });

/** A stored conversion with its attribution (SPEC §10.3). Partner keys get it without `revenue` and `advertiser_id`. */
export const Conversion = Type.Object({
  id: Id,
  transaction_id: Type.String(),
  time: DateTime,
  click_time: DateTime,
  offer_id: Id,
  partner_id: Id,
  advertiser_id: Type.Optional({ ...Id, description: 'Admin keys only: partner keys never see who the advertiser is.' }),
  smart_link_id: Id,
  entry_id: MaybeId,
  offer_url_id: MaybeId,
  method: StringEnum(['server_postback', 'cookie'] as const),
  status: StringEnum(CONVERSION_STATUSES),
  status_reason: Text,
  event_id: Text,
  order_id: Text,
  amount: Type.Union([Amount, Type.Null()]),
  payout: Amount,
  revenue: Type.Optional({ ...Amount, description: 'Admin keys only.' }),
  adv1: Text,
  adv2: Text,
  adv3: Text,
  adv4: Text,
  adv5: Text,
});
export type Conversion = Static<typeof Conversion>;

export const ConversionListQuery = Type.Composite(
  [
    PageQuery,
    Type.Partial(
      Type.Object({
        offer_id: Id,
        partner_id: Id,
        smart_link_id: Id,
        status: StringEnum(CONVERSION_STATUSES),
        from: { ...DateTime, description: 'Conversions at or after this time.' },
        to: { ...DateTime, description: 'Conversions before this time.' },
      }),
    ),
  ],
  { additionalProperties: false },
);
export type ConversionListQuery = Static<typeof ConversionListQuery>;

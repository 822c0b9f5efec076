import type { FastifyInstance } from 'fastify';
import { assertNoProblems, type ErrorDetail } from '../../domain/errors.js';
import type { AdvertiserRecord, OfferRecord, OfferUrlRecord, SmartLinkBody, SmartLinkRecord } from '../../domain/records.js';
import { checkRuleset } from '../../domain/ruleset-check.js';
import { SmartLink, SmartLinkFields, type SmartLinkInput } from '../../domain/schemas/smart-link.js';
import { isRateMetric, kpiSettingsView } from '../../engine/index.js';
import { kpiResetReason } from '../../kpi/index.js';
import type { StoreTx } from '../../ports/store.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { refuseIfFailTrafficTarget } from './fail-traffic-refs.js';
import { bodyOf } from './helpers.js';
import { expiresAtInUtc } from './offers.js';

async function defaultTrackingDomainId(tx: StoreTx): Promise<number | null> {
  const defaults = await tx.trackingDomains.list({ page: 1, pageSize: 1, where: { is_default: true } });
  return defaults.rows[0]?.id ?? null;
}

/** Every entry must point at a live offer (and an offer URL of that same offer), each pair once, and keep an id at most once. */
async function checkEntries(tx: StoreTx, link: SmartLinkBody, existing: SmartLinkRecord | undefined): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  const owned = new Map(existing?.entries.map((e) => [e.id, e]));
  const seen = new Map<string, number>();
  const claimed = new Map<number, number>();
  for (const [i, entry] of link.entries.entries()) {
    const at = `entries[${i}]`;
    const offer = await tx.offers.get(entry.offer_id);
    if (!offer || offer.status === 'deleted') problems.push({ path: `${at}.offer_id`, message: `offer ${entry.offer_id} does not exist` });
    if (entry.offer_url_id !== null) {
      const url = await tx.offerUrls.get(entry.offer_url_id);
      if (!url || url.status === 'deleted') {
        problems.push({ path: `${at}.offer_url_id`, message: `offer URL ${entry.offer_url_id} does not exist` });
      } else if (url.offer_id !== entry.offer_id) {
        problems.push({ path: `${at}.offer_url_id`, message: `offer URL ${entry.offer_url_id} belongs to offer ${url.offer_id}, not ${entry.offer_id}` });
      }
    }
    const pair = `${entry.offer_id}/${entry.offer_url_id}`;
    const first = seen.get(pair);
    if (first !== undefined) problems.push({ path: at, message: `the same offer and offer URL as entries[${first}]` });
    else seen.set(pair, i);
    if (entry.id !== undefined && !owned.has(entry.id)) problems.push({ path: `${at}.id`, message: `entry ${entry.id} is not an entry of this smart link` });
    // One stored entry cannot become two: its clicks, KPI history and report rows would be shared.
    const claimant = entry.id === undefined ? undefined : claimed.get(entry.id);
    if (claimant !== undefined) problems.push({ path: `${at}.id`, message: `entry ${entry.id} is already entries[${claimant}]` });
    else if (entry.id !== undefined) claimed.set(entry.id, i);
    const stored = entry.id === undefined ? undefined : owned.get(entry.id);
    problems.push(...checkRuleset(entry.ruleset, `${at}.ruleset`, stored?.ruleset));
  }
  return problems;
}

async function checkLink(tx: StoreTx, link: SmartLinkBody, existing: SmartLinkRecord | undefined): Promise<void> {
  const problems = await checkEntries(tx, link, existing);
  if (link.routing === 'kpi' && link.kpi === null) problems.push({ path: 'kpi', message: 'KPI routing needs kpi settings' });
  if (link.catch_all_offer_id !== null) {
    const offer = await tx.offers.get(link.catch_all_offer_id);
    if (!offer || offer.status === 'deleted') {
      problems.push({ path: 'catch_all_offer_id', message: `offer ${link.catch_all_offer_id} does not exist` });
    }
  }
  if (link.tracking_domain_id !== null && !(await tx.trackingDomains.get(link.tracking_domain_id))) {
    problems.push({ path: 'tracking_domain_id', message: `tracking domain ${link.tracking_domain_id} does not exist` });
  }
  assertNoProblems(problems);
}

/** Offer, offer URL and advertiser reads shared by the links of one answer, and the moment it is given. */
interface Lookups {
  offer(id: number): Promise<OfferRecord | undefined>;
  offerUrl(id: number): Promise<OfferUrlRecord | undefined>;
  advertiser(id: number): Promise<AdvertiserRecord | undefined>;
  nowMs: number;
}

/**
 * Reads each offer and advertiser once however many entries and links name it. A page of 100 links
 * of 500 entries read an offer per entry: 50,000 reads on the main thread, which held a click up for
 * 2.4 to 5.4 s (found by review).
 */
function lookupsOf(tx: StoreTx, nowMs: number): Lookups {
  const memo = <T>(read: (id: number) => Promise<T>) => {
    const seen = new Map<number, Promise<T>>();
    return (id: number): Promise<T> => {
      let value = seen.get(id);
      if (value === undefined) seen.set(id, (value = read(id)));
      return value;
    };
  };
  return {
    offer: memo((id) => tx.offers.get(id)),
    offerUrl: memo((id) => tx.offerUrls.get(id)),
    advertiser: memo((id) => tx.advertisers.get(id)),
    nowMs,
  };
}

/** Why an offer receives no traffic at `nowMs` (`is paused`, `expired at …`, its advertiser inactive), or null when it may. */
async function idleState(offer: OfferRecord, lookups: Lookups): Promise<string | null> {
  if (offer.status !== 'active') return `is ${offer.status}`;
  if (offer.expires_at !== null && Date.parse(offer.expires_at) <= lookups.nowMs) return `expired at ${expiresAtInUtc(offer.expires_at)}`;
  const advertiser = await lookups.advertiser(offer.advertiser_id);
  return advertiser && advertiser.status !== 'active' ? `has an advertiser that is ${advertiser.status}` : null;
}

/** Problems worth telling the operator that do not make the link invalid. */
async function warningsFor(lookups: Lookups, link: SmartLinkRecord): Promise<string[]> {
  const warnings: string[] = [];
  const cookieOffers = new Set<number>();
  const offers: OfferRecord[] = [];
  for (const entry of link.entries) {
    const offer = await lookups.offer(entry.offer_id);
    if (offer) offers.push(offer);
    const idle = offer ? await idleState(offer, lookups) : null;
    if (offer && idle) warnings.push(`entry ${entry.id}: offer ${offer.id} ${idle} and receives no traffic`);
    const url = entry.offer_url_id === null ? undefined : await lookups.offerUrl(entry.offer_url_id);
    if (url && url.status !== 'active') warnings.push(`entry ${entry.id}: offer URL ${url.id} is ${url.status} and receives no traffic`);
    if (offer?.conversion_method === 'cookie') cookieOffers.add(offer.id);
  }
  const catchAll = link.catch_all_offer_id === null ? undefined : await lookups.offer(link.catch_all_offer_id);
  // The catch-all's clicks leave the same offer cookie and convert by the same pixel.
  if (catchAll?.conversion_method === 'cookie') cookieOffers.add(catchAll.id);
  // SPEC §10.2: the browser sends the offer cookie only to the host that set it, so the pixel must
  // be served from the link's tracking domain. Offers carry no conversion domain to compare with;
  // what we can see is a link whose host is not pinned to a tracking domain at all.
  if (cookieOffers.size > 0 && link.tracking_domain_id === null) {
    warnings.push(
      `offers ${[...cookieOffers].join(', ')} convert by cookie pixel, but this link has no tracking domain: ` +
        'the pixel converts only on the host that served the click, so give the link the tracking domain the advertiser places the pixel on',
    );
  }
  const catchAllIdle = catchAll ? await idleState(catchAll, lookups) : null;
  if (catchAll && catchAllIdle) {
    warnings.push(`catch-all offer ${catchAll.id} ${catchAllIdle}: clicks no entry takes go to its fail traffic, else the global fail redirect`);
  }
  // Money is kept in each advertiser's currency and never converted: a money metric would rank
  // 10 EUR and 10 USD alike, so the operator is told when the entries pay in different currencies.
  if (link.routing === 'kpi' && link.kpi !== null && !isRateMetric(link.kpi.metric)) {
    const currencies = new Set<string>();
    for (const offer of offers) {
      const advertiser = await lookups.advertiser(offer.advertiser_id);
      if (advertiser) currencies.add(advertiser.default_currency);
    }
    if (currencies.size > 1) {
      warnings.push(
        `the KPI metric ${link.kpi.metric} compares money of different currencies (${[...currencies].sort().join(', ')}) as if it were one: ` +
          'amounts are never converted, so optimise this link by a rate (cvr, evr, conversions) or keep its offers in one currency',
      );
    }
  }
  if (link.routing === 'weight' && link.entries.every((e) => e.routing_value === 0)) {
    warnings.push('every entry has weight 0, so no entry receives traffic');
  }
  return warnings;
}

export function registerSmartLinks(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<SmartLinkRecord, SmartLinkBody>(app, deps, {
    noun: 'smart link',
    tag: 'smart links',
    path: '/smart-links',
    fields: SmartLinkFields,
    required: ['name', 'entries'],
    response: SmartLink,
    filters: { status: SmartLinkFields.properties.status },
    hideStatuses: ['deleted'],
    repo: (tx) => tx.smartLinks,
    async prepare({ tx, input, existing }) {
      const link = input as SmartLinkInput as SmartLinkBody;
      if (link.tracking_domain_id === undefined) link.tracking_domain_id = await defaultTrackingDomainId(tx);
      await checkLink(tx, link, existing);
      if (existing && link.status === 'deleted' && existing.status !== 'deleted') await refuseIfFailTrafficTarget(tx, [{ type: 'smart_link', id: existing.id }], 'smart link');
      return link;
    },
    present: async (tx, link) => ({ ...link, warnings: await warningsFor(lookupsOf(tx, deps.now()), link) }),
    async presentMany(tx, links) {
      const lookups = lookupsOf(tx, deps.now());
      return Promise.all(links.map(async (link) => ({ ...link, warnings: await warningsFor(lookups, link) })));
    },
    // SPEC §5: some edits make earlier data meaningless; the new epoch commits with the edit itself.
    async afterWrite(tx, link, existing) {
      const reason = kpiResetReason(existing, link);
      if (reason === null || link.kpi === null) return;
      const { algorithm, metric, goal } = kpiSettingsView(link.kpi);
      await tx.kpi.reset({ smartLinkId: link.id, reason, at: new Date(deps.now()).toISOString(), algorithm, metric, goal });
    },
    partnerScope: {
      list: () => ({ visible_to_partners: true }),
      item: (link) => link.visible_to_partners && link.status !== 'deleted',
      // Warnings are the operator's: they name other offers' states and advertisers' currencies.
      view: (link) => ({ ...link, warnings: [] }),
    },
    async remove(tx, link) {
      await refuseIfFailTrafficTarget(tx, [{ type: 'smart_link', id: link.id }], 'smart link');
      await tx.smartLinks.update(link.id, { ...bodyOf(link), status: 'deleted' });
    },
  });
}

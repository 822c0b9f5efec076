import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { AppError, assertNoProblems, type ErrorDetail } from '../../domain/errors.js';
import type { Body, OfferRecord } from '../../domain/records.js';
import { checkCaps } from '../../domain/caps-check.js';
import { checkRuleset } from '../../domain/ruleset-check.js';
import { Offer, OfferFields, type FailTraffic, type OfferInput } from '../../domain/schemas/offer.js';
import type { StoreTx } from '../../ports/store.js';
import { sha256 } from '../auth.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { refuseIfFailTrafficTarget } from './fail-traffic-refs.js';
import { bodyOf } from './helpers.js';

type OfferBody = Body<OfferRecord>;

/** Fail-traffic destinations must name what they point at, and it must exist and not be deleted (nor an offer URL's offer). */
async function checkFailTraffic(tx: StoreTx, failTraffic: FailTraffic | null, selfId: number | undefined): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  for (const [i, destination] of (failTraffic?.destinations ?? []).entries()) {
    const path = `fail_traffic.destinations[${i}]`;
    if (destination.type === 'url') {
      if (destination.url === undefined) problems.push({ path: `${path}.url`, message: 'a url destination needs url' });
      continue;
    }
    if (destination.id === undefined) {
      problems.push({ path: `${path}.id`, message: `a ${destination.type} destination needs id` });
      continue;
    }
    // A deleted target never receives traffic: naming one would make the safety net a hole.
    const live = (target: { status: string } | undefined) => target !== undefined && target.status !== 'deleted';
    const url = destination.type === 'offer_url' ? await tx.offerUrls.get(destination.id) : undefined;
    const exists =
      destination.type === 'offer'
        ? destination.id === selfId || live(await tx.offers.get(destination.id))
        : destination.type === 'offer_url'
          ? live(url) && url !== undefined && (url.offer_id === selfId || live(await tx.offers.get(url.offer_id)))
          : live(await tx.smartLinks.get(destination.id));
    if (!exists) problems.push({ path: `${path}.id`, message: `${destination.type} ${destination.id} does not exist` });
  }
  return problems;
}

async function refuseIfInUse(tx: StoreTx, offerId: number): Promise<void> {
  const links = await tx.references.smartLinksUsingOffer(offerId);
  if (links.length > 0) {
    throw new AppError('conflict', `smart links ${links.join(', ')} use this offer; remove it from them first`);
  }
  // Its offer URLs go with it; its own fail traffic naming it or them goes too.
  const urls = (await tx.offerUrls.all()).filter((url) => url.offer_id === offerId && url.status !== 'deleted');
  const targets = [{ type: 'offer' as const, id: offerId }, ...urls.map((url) => ({ type: 'offer_url' as const, id: url.id }))];
  await refuseIfFailTrafficTarget(tx, targets, 'offer or its URLs', offerId);
}

/** Problems worth telling the operator that do not make the offer invalid. */
function warningsFor(offer: OfferRecord): string[] {
  const failTraffic = offer.fail_traffic;
  // A weight left out is 0, and weight 0 never wins (SPEC §4.5): fail traffic by weight whose
  // destinations all lack one sends every click it should catch to the global fail redirect.
  if (failTraffic?.mode === 'weight' && failTraffic.destinations.length > 0 && failTraffic.destinations.every((d) => !d.routing_value)) {
    return ['fail_traffic: every destination has weight 0 (routing_value), so fail traffic sends no click anywhere'];
  }
  return [];
}

/**
 * An expiry in UTC (SPEC §2). Earlier versions stored it in the offset it was sent in, and an
 * upgrade leaves such records as they were, so it is put in UTC when read as well as when written.
 */
export function expiresAtInUtc(expiresAt: string | null): string | null {
  return expiresAt === null ? null : new Date(expiresAt).toISOString();
}

function present(offer: OfferRecord) {
  const { postback_secret_hash: hash, ...rest } = offer;
  return { ...rest, expires_at: expiresAtInUtc(rest.expires_at), has_postback_secret: hash !== null, warnings: warningsFor(offer) };
}

export function registerOffers(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<OfferRecord, OfferBody>(app, deps, {
    noun: 'offer',
    tag: 'offers',
    path: '/offers',
    fields: OfferFields,
    required: ['advertiser_id', 'name', 'destination_url'],
    response: Offer,
    filters: { status: OfferFields.properties.status, advertiser_id: OfferFields.properties.advertiser_id },
    hideStatuses: ['deleted'],
    repo: (tx) => tx.offers,
    async prepare({ tx, input, existing }) {
      const { postback_secret: secret, ...fields } = input as OfferInput & { postback_secret_hash?: string | null };
      const problems: ErrorDetail[] = [];
      const advertiser = await tx.advertisers.get(fields.advertiser_id);
      if (!advertiser || advertiser.status === 'deleted') {
        problems.push({ path: 'advertiser_id', message: `advertiser ${fields.advertiser_id} does not exist` });
      }
      problems.push(...checkRuleset(fields.ruleset, 'ruleset', existing?.ruleset));
      problems.push(...checkCaps(fields.caps, 'caps', existing?.caps));
      // Fail traffic saved before is not checked again (as rulesets): pausing an offer must not demand
      // rewriting it. An offer brought back from deleted is: its targets were free to go meanwhile.
      const revived = existing?.status === 'deleted' && fields.status !== 'deleted';
      if (!existing || revived || !isDeepStrictEqual(fields.fail_traffic, existing.fail_traffic)) {
        problems.push(...(await checkFailTraffic(tx, fields.fail_traffic, existing?.id)));
      }
      assertNoProblems(problems);
      if (existing && fields.status === 'deleted' && existing.status !== 'deleted') await refuseIfInUse(tx, existing.id);
      // A secret in the request replaces the stored one (null clears it); otherwise the stored hash stays.
      const hash = secret === undefined ? (existing?.postback_secret_hash ?? null) : secret === null ? null : sha256(secret).toString('hex');
      const { postback_secret_hash: _stale, ...rest } = fields;
      // SPEC §2: times are stored in UTC, whatever offset the request wrote the expiry in.
      return { ...rest, expires_at: expiresAtInUtc(rest.expires_at), postback_secret_hash: hash };
    },
    present: (_tx, offer) => present(offer),
    async remove(tx, offer) {
      await refuseIfInUse(tx, offer.id);
      await tx.offers.update(offer.id, { ...bodyOf(offer), status: 'deleted' });
    },
  });
}

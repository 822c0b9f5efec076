import { AppError } from '../../domain/errors.js';
import type { StoreTx } from '../../ports/store.js';

export type FailTrafficTarget = 'offer' | 'offer_url' | 'smart_link';

/** Live offers, but for the one being deleted, whose fail traffic sends visitors to the target. */
async function offersFailingOverTo(tx: StoreTx, type: FailTrafficTarget, ids: ReadonlySet<number>, deletedOfferId: number | null): Promise<number[]> {
  const offers = await tx.offers.all();
  return offers
    .filter((offer) => offer.status !== 'deleted' && offer.id !== deletedOfferId)
    .filter((offer) => (offer.fail_traffic?.destinations ?? []).some((d) => d.type === type && d.id !== undefined && ids.has(d.id)))
    .map((offer) => offer.id);
}

/**
 * Refuses to delete what live fail traffic still sends visitors to (SPEC §7): the safety net would
 * have a hole, and every later edit of the offer naming it would fail validation. The admin
 * changes the fail traffic first, as with an offer a smart link uses.
 */
export async function refuseIfFailTrafficTarget(
  tx: StoreTx,
  type: FailTrafficTarget,
  ids: ReadonlySet<number>,
  what: string,
  deletedOfferId: number | null = null,
): Promise<void> {
  const offers = await offersFailingOverTo(tx, type, ids, deletedOfferId);
  if (offers.length > 0) {
    throw new AppError('conflict', `the fail traffic of offer(s) ${offers.join(', ')} sends visitors to this ${what}; change it first`);
  }
}

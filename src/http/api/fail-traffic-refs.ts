import { AppError } from '../../domain/errors.js';
import type { StoreTx } from '../../ports/store.js';

type FailTrafficTarget = 'offer' | 'offer_url' | 'smart_link';

/** Something fail traffic can send visitors to. */
export interface FailTrafficRef {
  readonly type: FailTrafficTarget;
  readonly id: number;
}

/** Live offers, but for the one being deleted, whose fail traffic sends visitors to any of the targets. */
async function offersFailingOverTo(tx: StoreTx, targets: readonly FailTrafficRef[], deletedOfferId: number | null): Promise<number[]> {
  const keys = new Set(targets.map((t) => `${t.type}:${t.id}`));
  const offers = await tx.offers.all();
  return offers
    .filter((offer) => offer.status !== 'deleted' && offer.id !== deletedOfferId)
    .filter((offer) => (offer.fail_traffic?.destinations ?? []).some((d) => d.id !== undefined && keys.has(`${d.type}:${d.id}`)))
    .map((offer) => offer.id);
}

/**
 * Refuses to delete what live fail traffic still sends visitors to (SPEC §7): the safety net would
 * have a hole, and every later edit of the offer naming it would fail validation. The admin
 * changes the fail traffic first, as with an offer a smart link uses.
 */
export async function refuseIfFailTrafficTarget(
  tx: StoreTx,
  targets: readonly FailTrafficRef[],
  what: string,
  deletedOfferId: number | null = null,
): Promise<void> {
  const offers = await offersFailingOverTo(tx, targets, deletedOfferId);
  if (offers.length > 0) {
    throw new AppError('conflict', `the fail traffic of offer(s) ${offers.join(', ')} sends visitors to this ${what}; change it first`);
  }
}

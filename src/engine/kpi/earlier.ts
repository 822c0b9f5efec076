import type { EarlierOutcomes, EntryOutcomes, KpiModel } from './model.js';

/** The outcomes from before the history that a model carries; null for ranking models and older ones. */
export function earlierOf(model: KpiModel | null): EarlierOutcomes | null {
  return model?.algorithm === 'thompson' ? (model.earlier ?? null) : null;
}

/** `previous` plus the outcomes of the hours that aged out since (`aged`), now holding the epoch before `until`. */
export function foldEarlier(previous: EarlierOutcomes | null, aged: Iterable<EntryOutcomes>, until: string): EarlierOutcomes {
  const sums = new Map<number, { -readonly [K in keyof EntryOutcomes]: EntryOutcomes[K] }>();
  const add = (row: EntryOutcomes): void => {
    const sum = sums.get(row.entryId);
    if (sum === undefined) {
      sums.set(row.entryId, { ...row });
      return;
    }
    sum.clicks += row.clicks;
    sum.conversions += row.conversions;
    sum.events += row.events;
    sum.revenueMicros += row.revenueMicros;
    sum.payoutMicros += row.payoutMicros;
  };
  for (const row of previous?.entries ?? []) add(row);
  for (const row of aged) add(row);
  return { until, entries: [...sums.values()].sort((a, b) => a.entryId - b.entryId) };
}

import type { Rng } from './rng.js';

/**
 * Draws an index with probability exactly proportional to `weights` (non-negative integers;
 * zero never wins). Returns -1 when every weight is zero.
 */
export function drawIndex(weights: readonly number[], rng: Rng): { index: number; roll: number; total: number } {
  let total = 0;
  for (const weight of weights) total += weight;
  if (total <= 0) return { index: -1, roll: 0, total };
  const roll = rng.next() * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const weight = weights[i] ?? 0;
    if (weight <= 0) continue;
    cumulative += weight;
    last = i;
    if (roll < cumulative) return { index: i, roll, total };
  }
  // Only float rounding at the very top of the range can get here; the last positive weight owns it.
  return { index: last, roll, total };
}

/**
 * A full order by repeated weighted draws without replacement: the first element is a fair draw,
 * and if it fails the next is a fair draw among the rest. Zero-weight items are left out.
 */
export function weightedOrder<T>(items: readonly T[], weightOf: (item: T) => number, rng: Rng): T[] {
  const remaining = items.filter((item) => weightOf(item) > 0);
  const order: T[] = [];
  while (remaining.length > 0) {
    const { index } = drawIndex(remaining.map(weightOf), rng);
    const [picked] = remaining.splice(index, 1);
    if (picked !== undefined) order.push(picked);
  }
  return order;
}

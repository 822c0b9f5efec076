import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

const SUB_REASONS = [REASON.SUB1, REASON.SUB2, REASON.SUB3, REASON.SUB4, REASON.SUB5] as const;
const SUB_NAMES = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;

/** The sub1 … sub5 query parameters; reasons 101 … 105. */
export const subDimensions: readonly ValueDimension[] = SUB_NAMES.map((dimension, i) => ({
  dimension,
  reason: SUB_REASONS[i] ?? REASON.SUB1,
  read: (input) => input.subs[i] ?? null,
}));

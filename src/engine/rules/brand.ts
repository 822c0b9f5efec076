import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** Device maker (`Apple`, `Samsung`, …); reason 30. */
export const brandDimension: ValueDimension = {
  dimension: 'brand',
  reason: REASON.BRAND,
  read: (input) => input.brand,
};

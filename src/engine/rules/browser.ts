import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** Browser family (`Chrome`, `Safari`, `Samsung Internet`, …); reason 6. */
export const browserDimension: ValueDimension = {
  dimension: 'browser',
  reason: REASON.BROWSER,
  read: (input) => input.browser,
};

import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** Primary Accept-Language, ISO 639-1; reason 8. */
export const languageDimension: ValueDimension = {
  dimension: 'language',
  reason: REASON.LANGUAGE,
  read: (input) => input.language,
};

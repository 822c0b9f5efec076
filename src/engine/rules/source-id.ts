import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** The `source_id` query parameter; reason 106. */
export const sourceIdDimension: ValueDimension = {
  dimension: 'source_id',
  reason: REASON.SOURCE_ID,
  read: (input) => input.sourceId,
};

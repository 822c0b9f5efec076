import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** `mobile`, `tablet`, `desktop`, `bot` or `other`; reason 5. */
export const deviceTypeDimension: ValueDimension = {
  dimension: 'device_type',
  reason: REASON.DEVICE_TYPE,
  read: (input) => input.deviceType,
};

import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** Operating system, canonical values of SPEC §6 (`iOS` includes iPadOS); reason 4. */
export const osDimension: ValueDimension = {
  dimension: 'os',
  reason: REASON.OS,
  read: (input) => input.os,
};

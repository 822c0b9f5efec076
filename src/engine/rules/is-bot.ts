import { REASON } from '../reasons.js';
import type { ValueDimension } from './value-list.js';

/** Values `"true"`/`"false"`; always known, so `include false` keeps every bot out (reason 905). */
export const isBotDimension: ValueDimension = {
  dimension: 'is_bot',
  reason: REASON.BOT,
  read: (input) => input.isBot,
};

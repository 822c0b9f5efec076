import { isDeepStrictEqual } from 'node:util';
import type { ErrorDetail } from './errors.js';
import type { Cap } from './schemas/offer.js';

/**
 * Cross-field rules the caps schema cannot state: clicks and conversions are counted whole, so a
 * limit of 2.5 clicks (which behaved as 3) is refused. Caps equal to the `stored` ones are not
 * checked again, so a record saved before the rule stays editable.
 */
export function checkCaps(caps: readonly Cap[] | undefined, path: string, stored?: readonly Cap[]): ErrorDetail[] {
  if (caps === undefined || (stored !== undefined && isDeepStrictEqual(caps, stored))) return [];
  return caps.flatMap((cap, i) =>
    (cap.metric === 'clicks' || cap.metric === 'conversions') && !Number.isInteger(cap.limit)
      ? [{ path: `${path}[${i}].limit`, message: `must be a whole number of ${cap.metric}` }]
      : [],
  );
}

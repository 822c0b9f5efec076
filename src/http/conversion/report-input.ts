import type { ValidateFunction } from 'ajv';
import type { ConversionReport } from '../../conversions/index.js';
import type { ConversionMethod } from '../../domain/conversion.js';
import { AppError } from '../../domain/errors.js';
import { parseMicros } from '../../domain/money.js';
import type { PixelInput, PostbackInput } from '../../domain/schemas/conversion.js';
import { toErrorDetails } from '../validation.js';

/** One parameter's value: a repeated parameter keeps its first value (JSON numbers arrive as their text). */
function asText(value: unknown): unknown {
  return Array.isArray(value) ? (value as unknown[])[0] : value;
}

/**
 * A macro the advertiser's system left as written (`{amount}`, `{{aff_sub}}`): it carries no value.
 * Taken literally, an unfilled `amount={amount}` was refused with 400 and the conversion lost.
 */
const UNFILLED_MACRO = /^\{+[\w.:-]*\}+$/;
/** A GUID in braces (.NET's `B` format) is a value, often an order id, not a macro. */
const BRACED_GUID = /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i;

/**
 * Merges parameter sources (query string, then form or JSON body; later ones win) into one object
 * for the input schema. Empty values, unfilled macros (and JSON nulls, their counterpart in a JSON
 * body) count as absent: postback templates often leave a macro unfilled.
 */
export function collectParams(...sources: unknown[]): Record<string, unknown> {
  // No prototype: a parameter named `__proto__` stays a plain key.
  const params = Object.create(null) as Record<string, unknown>;
  for (const source of sources) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [key, value] of Object.entries(source)) {
      const text = asText(value);
      if (text === '' || text === undefined || text === null) continue;
      if (typeof text === 'string' && UNFILLED_MACRO.test(text) && !BRACED_GUID.test(text)) continue;
      params[key] = text;
    }
  }
  return params;
}

/** Checks `params` against a compiled input schema; throws validation_failed listing every problem. */
export function checkInput<T>(validate: ValidateFunction, params: Record<string, unknown>): T {
  if (!validate(params)) throw AppError.invalid(toErrorDetails(validate.errors ?? [], ''));
  return params as T;
}

/** The exact amount in micros; the schema already allowed only ≤ 4 decimal places other than trailing zeros. */
function amountMicros(amount: string | undefined): number | null {
  if (amount === undefined) return null;
  // The schema allowed zeros past the fourth place; they change nothing.
  const micros = parseMicros(amount.replace(/(\.\d{4})0+$/, '$1'));
  if (micros === undefined) throw AppError.invalid([{ path: 'amount', message: 'is too large' }]);
  return micros;
}

/** The validated input as a conversion report for `transactionId`. */
export function toReport(
  input: PostbackInput | PixelInput,
  transactionId: string,
  method: ConversionMethod,
  verificationToken: string | null,
): ConversionReport {
  return {
    transactionId,
    method,
    amountMicros: amountMicros(input.amount),
    eventId: input.event_id ?? null,
    orderId: input.order_id ?? null,
    adv: [input.adv1 ?? null, input.adv2 ?? null, input.adv3 ?? null, input.adv4 ?? null, input.adv5 ?? null],
    verificationToken,
  };
}

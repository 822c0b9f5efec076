/**
 * Exact money arithmetic in integer micros (millionths of the currency unit). Decimal text is parsed
 * digit by digit and products are taken in bigint, so no value ever passes through a binary float.
 */

export const MICROS_PER_UNIT = 1_000_000;

/** The largest amount of micros stored and read back exactly as a JS number (≈ 9 billion units). */
export const MAX_SAFE_MICROS = Number.MAX_SAFE_INTEGER;

const DECIMAL = /^(\d{1,15})(?:\.(\d{1,6}))?$/;

/**
 * Parses a non-negative decimal such as `19.99` into micros, or undefined when the text is not
 * such a number, has more than `maxDecimals` places or does not fit in MAX_SAFE_MICROS.
 */
export function parseMicros(text: string, maxDecimals = 4): number | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > maxDecimals) return undefined;
  const micros = BigInt(match[1] as string) * BigInt(MICROS_PER_UNIT) + BigInt(fraction.padEnd(6, '0'));
  return micros <= BigInt(MAX_SAFE_MICROS) ? Number(micros) : undefined;
}

/**
 * Micros of a configured amount (an API `Money` value, ≤ 4 decimal places). `String(value)` is the
 * shortest text that reads back as the same double, which for such a value is exactly the decimal
 * that was sent, so this recovers it without rounding.
 */
export function numberToMicros(value: number): number | undefined {
  return parseMicros(String(value));
}

/** Micros as a JSON number; `n / 1e6` is correctly rounded, so it prints as the exact decimal. */
export function microsToNumber(micros: number): number {
  return micros / MICROS_PER_UNIT;
}

/** Micros as minimal decimal text (`2.49875`, `3`), for URLs and logs. */
export function microsToText(micros: number): string {
  const units = Math.floor(micros / MICROS_PER_UNIT);
  const fraction = String(micros % MICROS_PER_UNIT).padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${units}.${fraction}` : String(units);
}

/**
 * `percentMicros` percent of `amountMicros`, rounded half up to whole micros; undefined when the
 * result does not fit in MAX_SAFE_MICROS. Both inputs are micros, so the exact quotient is
 * amount × percent / (100 × 10⁶).
 */
export function percentOf(amountMicros: number, percentMicros: number): number | undefined {
  const numerator = BigInt(amountMicros) * BigInt(percentMicros);
  const denominator = 100n * BigInt(MICROS_PER_UNIT);
  const rounded = (2n * numerator + denominator) / (2n * denominator);
  return rounded <= BigInt(MAX_SAFE_MICROS) ? Number(rounded) : undefined;
}

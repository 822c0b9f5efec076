/**
 * A finite number as the decimal its shortest text writes (`7955.9`, `1e-7`, `1.5e+21`): exact digits
 * scaled by 10^-places, so decimal questions (a multiple of 0.0001, a distance to a goal of 1.1) are
 * answered in bigint, never on a binary float.
 */
export function exactDecimal(value: number): { digits: bigint; places: number } {
  const [mantissa = '0', exponent = '0'] = String(value).toLowerCase().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const places = fraction.length - Number(exponent);
  const digits = BigInt(`${whole}${fraction}`);
  return places >= 0 ? { digits, places } : { digits: digits * 10n ** BigInt(-places), places: 0 };
}

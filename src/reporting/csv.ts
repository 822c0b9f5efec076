import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import Negotiator from 'negotiator';

type Cell = string | number | null;

/**
 * Neutralises spreadsheet formula injection (OWASP "CSV injection"): a text cell that a spreadsheet
 * would evaluate — starting with = + - @, tab, carriage return or a null character (OWASP ASVS 5.0 V1.2.10) — gets a leading apostrophe.
 * Numbers are left alone: a negative profit is data, not a formula.
 */
export function neutralise(value: string): string {
  return /^[=+\-@\t\r\0]/.test(value) ? `'${value}` : value;
}

/**
 * Streams rows as RFC 4180 CSV with a header line, quoting as needed. Rows are pulled one at a time
 * as the response drains (pipe keeps backpressure), so the CSV text is never held whole beside them.
 */
export function csvStream(header: readonly string[], rows: readonly Record<string, Cell>[]): Readable {
  // With CRLF records the library quotes only cells holding a CRLF; a lone LF or CR inside a cell
  // (a partner's sub value) then went out bare and started a new row, whose first cell escaped
  // neutralise: quote every cell with a line break.
  const stringifier = stringify({
    header: true, columns: [...header], cast: { string: neutralise }, record_delimiter: 'windows', quoted_match: /[\r\n]/,
  });
  function* records() {
    for (const row of rows) yield header.map((key) => row[key] ?? '');
  }
  return Readable.from(records()).pipe(stringifier);
}

/**
 * Whether the caller asked for CSV: `format=csv`, or an `Accept` header that prefers text/csv to JSON
 * (quality values count: `application/json, text/csv;q=0.1` is JSON; between equal ones the header's
 * order decides, and a wildcard range matching both is JSON).
 */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  if (accept === undefined) return false;
  return new Negotiator({ headers: { accept: withoutParameters(accept) } }).mediaType(['application/json', 'text/csv']) === 'text/csv';
}

/**
 * The Accept header with each media range's parameters other than `q` left out: Negotiator matches a
 * range with parameters (`text/csv; charset=utf-8`, the type a CSV report answers with) only to an offered
 * type that has the same parameters, so such a request was answered JSON.
 */
const withoutParameters = (accept: string) => accept.replace(/;\s*(?!q\s*=)[^;,=\s]+\s*=\s*(?:"[^"]*"|[^;,]*)/gi, '');

/** An IPv4-mapped IPv6 address as the URL parser writes it: `::ffff:808:404` for 8.8.4.4. */
const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per visitor address: IPv4-mapped IPv6 as the IPv4 address it is, IPv6 in lower
 * case and its shortest form. A listener on `::` sees every IPv4 visitor as `::ffff:a.b.c.d`, and
 * proxies write addresses their own way; the duplicate filter remembers visitors by this text, so
 * two spellings of one address made two visitors, and explain (given the address as the operator
 * knows it) disagreed with the click. Targeting and geo already read both spellings as one address.
 * Runs for every stored click a start reads back, so IPv6 takes the URL parser's one pass (the
 * engine's parser first and then this one cost about 5 s more a start per million IPv6 clicks).
 */
export function canonicalIp(text: string | null): string | null {
  // IPv4 (and anything that is no IPv6 address) stays as written.
  if (text === null || !text.includes(':')) return text;
  // A zone id (link-local only, never a visitor from the internet) is kept as written.
  if (text.includes('%')) return text.toLowerCase();
  let host: string;
  try {
    host = new URL(`http://[${text}]`).hostname.slice(1, -1);
  } catch {
    return text;
  }
  const mapped = MAPPED.exec(host);
  if (mapped === null) return host;
  const high = Number.parseInt(mapped[1] ?? '0', 16);
  const low = Number.parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

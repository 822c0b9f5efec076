import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into every address it resolves to. Injected in tests; `dns.lookup` by default. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), returning every answer in its order. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
};

/**
 * A `lookup` for `http.request` that answers every query with the addresses already vetted, so the
 * socket connects only where the policy looked: there is no second resolution an attacker's DNS
 * could answer differently (DNS rebinding). Handles both the single-answer (the first vetted
 * address) and the `all: true` (happy eyeballs) calling conventions; with the latter Node tries the
 * next vetted address when one does not connect, as any client of a multi-address host would.
 */
export function pinnedLookup(answers: readonly ResolvedAddress[]): LookupFunction {
  const first = answers[0];
  if (first === undefined) throw new Error('pinnedLookup needs at least one vetted address');
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, answers.map(({ address, family }) => ({ address, family })));
    else callback(null, first.address, first.family);
  }) as LookupFunction;
}

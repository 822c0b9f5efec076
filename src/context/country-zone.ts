import countriesAndTimezones from 'countries-and-timezones';

let zones: ReadonlyMap<string, string> | undefined;

/**
 * Countries with more than one clock of which one is the country's own: the others keep a small
 * share of its people (the Canaries 5 %, the Azores 2 %, Bougainville 3 %, Chile's south and Easter
 * Island 2 %, Galápagos, the Chatham Islands' 800, the Marquesas and Gambier 4 % of French Polynesia,
 * Kiribati's Line Islands 8 %, Mongolia's three western provinces 8 %) or are not its legal time (Xinjiang's informal
 * Urumqi time, Moscow time kept in Crimea). Without a zone every visitor of these countries
 * failed day parting in the visitor's zone (reason 17); with it, those few may be an hour off.
 */
const MAIN_CLOCKS: Readonly<Record<string, string>> = {
  CN: 'Asia/Shanghai', NZ: 'Pacific/Auckland', ES: 'Europe/Madrid', PT: 'Europe/Lisbon', UA: 'Europe/Kyiv',
  CL: 'America/Santiago', EC: 'America/Guayaquil', PG: 'Pacific/Port_Moresby',
  MN: 'Asia/Ulaanbaatar', PF: 'Pacific/Tahiti', KI: 'Pacific/Tarawa',
};

/**
 * Countries whose every zone keeps the same clock (same standard and summer offsets), mapped to one
 * of them: about 220 of 250, all but the wide ones (US, Russia, Brazil, Australia…). A country
 * database places a visitor in a country only, and day parting in the visitor's time zone needs a
 * zone; where the country has one clock, that is the visitor's.
 */
function countryZones(): ReadonlyMap<string, string> {
  const found = new Map<string, string>();
  for (const country of Object.values(countriesAndTimezones.getAllCountries())) {
    const clocks = country.timezones.map((name) => countriesAndTimezones.getTimezone(name));
    const [first] = clocks;
    if (first && clocks.every((zone) => zone !== null && zone.utcOffset === first.utcOffset && zone.dstOffset === first.dstOffset)) {
      found.set(country.id, first.name);
    }
  }
  for (const [country, zone] of Object.entries(MAIN_CLOCKS)) {
    if (!found.has(country) && countriesAndTimezones.getTimezone(zone) !== null) found.set(country, zone);
  }
  return found;
}

/** The time zone of (nearly) everyone in `country` (ISO 3166-1 alpha-2), or null when its people keep several clocks. */
export function countryTimeZone(country: string | null): string | null {
  if (country === null) return null;
  zones ??= countryZones();
  return zones.get(country) ?? null;
}

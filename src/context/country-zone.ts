import countriesAndTimezones from 'countries-and-timezones';

let zones: ReadonlyMap<string, string> | undefined;

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
  return found;
}

/** The time zone of everyone in `country` (ISO 3166-1 alpha-2), or null when it has more than one clock. */
export function countryTimeZone(country: string | null): string | null {
  if (country === null) return null;
  zones ??= countryZones();
  return zones.get(country) ?? null;
}

import { isDeepStrictEqual } from 'node:util';
import countriesAndTimezones from 'countries-and-timezones';
import { BROWSER_FAMILIES, DEVICE_TYPES, OPERATING_SYSTEMS } from './click.js';
import type { ErrorDetail } from './errors.js';
import { FORMAT_HINTS, isCidr } from './formats.js';
import { dayPartingOf, type Ruleset } from './schemas/ruleset.js';
import { compareVersions, parseVersion } from './version.js';

const COUNTRY = /^[A-Za-z]{2}$/;
const LANGUAGE = /^[A-Za-z]{2}$/;
/**
 * The country codes a visitor can be placed in: ISO 3166-1 alpha-2 (the time-zone table lacks only
 * uninhabited Bouvet Island, BV, which the bundled geo database still places addresses in), plus
 * Kosovo's XK, which geo databases use though ISO has not assigned it. Two letters alone let `UK`
 * through, and no visitor is ever in `UK` (the code is GB).
 */
const COUNTRIES = new Set([...Object.keys(countriesAndTimezones.getAllCountries()), 'BV', 'XK']);
/** Knows every ISO 639-1 code (and nothing it does not know: no fallback to the code itself). */
const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
const COUNTRY_HINTS: Readonly<Record<string, string>> = { UK: ' (the United Kingdom is GB)', EL: ' (Greece is GR)' };
// Lower-cased canonical values: visitors are parsed to these, so any other value in a rule could
// never match (an include of "iPadOS" turned every visitor away).
const OS_VALUES = new Set(OPERATING_SYSTEMS.map((os) => os.toLowerCase()));
const DEVICE_VALUES = new Set<string>(DEVICE_TYPES);
/** Lower-cased parser names of browser variants that visitors are recorded under another name. */
const BROWSER_RENAMED = new Map(
  Object.entries(BROWSER_FAMILIES).filter(([name, family]) => name !== family).map(([name, family]) => [name.toLowerCase(), family]),
);

/**
 * The rules of a ruleset that JSON Schema cannot express: which fields each dimension takes and
 * what its values must look like. Returns every problem, with paths under `path`. A ruleset equal
 * to the `stored` one is not checked again: rules get stricter over versions, and a record saved
 * before must stay editable (pausing an offer must not demand rewriting its targeting first).
 */
export function checkRuleset(ruleset: Ruleset | null | undefined, path: string, stored?: Ruleset | null): ErrorDetail[] {
  if (!ruleset || isDeepStrictEqual(ruleset, stored)) return [];
  const problems: ErrorDetail[] = [];
  (ruleset.rules ?? []).forEach((rule, i) => {
    const at = `${path}.rules[${i}]`;
    if (rule.dimension === 'os_version') {
      if (rule.values !== undefined) problems.push({ path: `${at}.values`, message: 'os_version takes min and/or max, not values' });
      if (rule.min === undefined && rule.max === undefined) problems.push({ path: at, message: 'os_version needs min and/or max' });
      const [min, max] = [parseVersion(rule.min ?? null), parseVersion(rule.max ?? null)];
      // max takes every later part (the engine's os-version rule): 14.2 … 14 is 14.2 to 14.x.
      if (min !== null && max !== null && compareVersions(min.slice(0, max.length), max) > 0) {
        problems.push({ path: at, message: 'min must not be above max' });
      }
      return;
    }
    if (rule.min !== undefined || rule.max !== undefined) {
      problems.push({ path: at, message: 'only os_version takes min and max' });
    }
    if (rule.values === undefined) {
      problems.push({ path: `${at}.values`, message: 'must list at least one value' });
      return;
    }
    rule.values.forEach((value, j) => {
      const message = valueProblem(rule.dimension, value);
      if (message) problems.push({ path: `${at}.values[${j}]`, message });
    });
  });
  const dayParting = ruleset.day_parting;
  // The windows' path as written: `day_parting[i]` for the list form of SPEC §6, else `day_parting.windows[i]`.
  const windowsAt = Array.isArray(dayParting) ? `${path}.day_parting` : `${path}.day_parting.windows`;
  dayPartingOf(ruleset)?.windows.forEach((window, i) => {
    // An end before the start runs past midnight; an equal one would be either nothing or all day.
    if (window.start === window.end) {
      problems.push({ path: `${windowsAt}[${i}]`, message: 'start and end must differ (00:00–24:00 is the whole day)' });
    }
    if (window.start === '24:00') {
      problems.push({ path: `${windowsAt}[${i}].start`, message: '24:00 is an end only; a window from midnight starts at 00:00' });
    }
  });
  // The ruleset's timezone is the zone of day parting written as a list: anywhere else it would be ignored.
  if (ruleset.timezone != null && !Array.isArray(dayParting)) {
    problems.push({
      path: `${path}.timezone`,
      message: dayParting
        ? 'with day_parting as {timezone, windows}, give the zone inside it as day_parting.timezone'
        : 'is the zone of day_parting, and this ruleset has none',
    });
  }
  return problems;
}

/**
 * The dimensions whose visitor values never start or end with white space: parsed names, database
 * names and codes. Only the visitor's own query values (sub1–sub5, source_id) may carry it.
 */
const TRIMMED_DIMENSIONS: ReadonlySet<string> = new Set(['country', 'region', 'city', 'os', 'device_type', 'browser', 'brand', 'language', 'ip', 'is_bot']);

function valueProblem(dimension: string, value: string): string | undefined {
  // "New York " pasted from a sheet can never match a visitor: saved, it turned every visitor away.
  if (TRIMMED_DIMENSIONS.has(dimension) && value.trim() !== value) return 'must not start or end with a space or other white space';
  switch (dimension) {
    case 'ip':
      return isCidr(value) ? undefined : FORMAT_HINTS.cidr;
    case 'country':
      return COUNTRY.test(value) && COUNTRIES.has(value.toUpperCase())
        ? undefined
        : `must be an ISO 3166-1 alpha-2 country code${COUNTRY_HINTS[value.toUpperCase()] ?? ''}`;
    case 'language':
      return LANGUAGE.test(value) && LANGUAGE_NAMES.of(value.toLowerCase()) !== undefined ? undefined : 'must be an ISO 639-1 language code';
    case 'is_bot':
      return ['true', 'false'].includes(value.toLowerCase()) ? undefined : 'must be "true" or "false"';
    case 'os':
      return OS_VALUES.has(value.toLowerCase()) ? undefined : `must be one of ${OPERATING_SYSTEMS.join(', ')} (iOS includes iPadOS)`;
    case 'device_type':
      return DEVICE_VALUES.has(value.toLowerCase()) ? undefined : `must be one of ${DEVICE_TYPES.join(', ')}`;
    case 'browser': {
      const family = BROWSER_RENAMED.get(value.toLowerCase());
      return family === undefined ? undefined : `visitors with ${value} are recorded as ${family}: name ${family}`;
    }
    default:
      return undefined;
  }
}

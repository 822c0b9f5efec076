import type { ErrorDetail } from './errors.js';
import { isCidr } from './formats.js';
import type { Ruleset } from './schemas/ruleset.js';

const COUNTRY = /^[A-Za-z]{2}$/;
const LANGUAGE = /^[A-Za-z]{2}$/;

/**
 * The rules of a ruleset that JSON Schema cannot express: which fields each dimension takes and
 * what its values must look like. Returns every problem, with paths under `path`.
 */
export function checkRuleset(ruleset: Ruleset | null | undefined, path: string): ErrorDetail[] {
  if (!ruleset) return [];
  const problems: ErrorDetail[] = [];
  (ruleset.rules ?? []).forEach((rule, i) => {
    const at = `${path}.rules[${i}]`;
    if (rule.dimension === 'os_version') {
      if (rule.values !== undefined) problems.push({ path: `${at}.values`, message: 'os_version takes min and/or max, not values' });
      if (rule.min === undefined && rule.max === undefined) problems.push({ path: at, message: 'os_version needs min and/or max' });
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
  ruleset.day_parting?.windows.forEach((window, i) => {
    if (window.start >= window.end) {
      problems.push({ path: `${path}.day_parting.windows[${i}]`, message: 'start must be before end' });
    }
  });
  return problems;
}

function valueProblem(dimension: string, value: string): string | undefined {
  switch (dimension) {
    case 'ip':
      return isCidr(value) ? undefined : 'must be an IPv4 or IPv6 address or CIDR network';
    case 'country':
      return COUNTRY.test(value) ? undefined : 'must be an ISO 3166-1 alpha-2 country code';
    case 'language':
      return LANGUAGE.test(value) ? undefined : 'must be an ISO 639-1 language code';
    case 'is_bot':
      return value === 'true' || value === 'false' ? undefined : 'must be "true" or "false"';
    default:
      return undefined;
  }
}

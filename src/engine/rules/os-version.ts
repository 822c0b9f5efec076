import type { Rule } from '../../domain/schemas/ruleset.js';
import { compareVersions, parseVersion } from '../../domain/version.js';
import { REASON } from '../reasons.js';
import { rulesFor, type RuleCheck } from './rule-check.js';

interface VersionRange {
  min: readonly number[] | null;
  max: readonly number[] | null;
}

/**
 * `max` is compared at its own precision: `max: "14"` is every 14.x, as an admin targeting "iOS up
 * to 14" means; compared in full, 14.2 counted as above 14 and was turned away.
 */
function inRange(version: readonly number[], range: VersionRange): boolean {
  const { min, max } = range;
  return (min === null || compareVersions(version, min) >= 0) && (max === null || compareVersions(version.slice(0, max.length), max) <= 0);
}

const toRange = (rule: Rule): VersionRange => ({ min: parseVersion(rule.min ?? null), max: parseVersion(rule.max ?? null) });

/**
 * OS version between `min` and `max`, both inclusive, `max` with every later part (reason 7).
 * Several include ranges are alternatives; a version inside any exclude range fails.
 */
export function compileOsVersion(rules: readonly Rule[]): RuleCheck | null {
  const { include, exclude } = rulesFor(rules, 'os_version');
  if (include.length === 0 && exclude.length === 0) return null;
  const included = include.map(toRange);
  const excluded = exclude.map(toRange);
  return {
    dimension: 'os_version',
    reason: REASON.OS_VERSION,
    test(input) {
      const version = input.osVersion;
      if (version === null) return included.length === 0;
      if (excluded.some((range) => inRange(version, range))) return false;
      return included.length === 0 || included.some((range) => inRange(version, range));
    },
  };
}

import type { Rule } from '../../domain/schemas/ruleset.js';
import { parseVersion } from '../match-input.js';
import { REASON } from '../reasons.js';
import { rulesFor, type RuleCheck } from './rule-check.js';

interface VersionRange {
  min: readonly number[] | null;
  max: readonly number[] | null;
}

/** Numeric, part by part; missing parts count as 0 (so `14` equals `14.0.0`). */
function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function inRange(version: readonly number[], range: VersionRange): boolean {
  return (range.min === null || compareVersions(version, range.min) >= 0) && (range.max === null || compareVersions(version, range.max) <= 0);
}

const toRange = (rule: Rule): VersionRange => ({ min: parseVersion(rule.min ?? null), max: parseVersion(rule.max ?? null) });

/**
 * OS version between `min` and `max`, both inclusive (reason 7). Several include ranges are
 * alternatives; a version inside any exclude range fails.
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

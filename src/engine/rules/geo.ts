import type { Rule } from '../../domain/schemas/ruleset.js';
import type { MatchInput } from '../match-input.js';
import { REASON } from '../reasons.js';
import { rulesFor, valueSet, type RuleCheck } from './rule-check.js';

type GeoDimension = 'country' | 'region' | 'city';

interface GeoLevel {
  dimension: GeoDimension;
  reason: number;
  read(input: MatchInput): string | null;
  included: ReadonlySet<string>;
  excluded: ReadonlySet<string>;
  hasIncludes: boolean;
}

// From broad to specific: an include on a later level overrides an exclude on an earlier one.
const LEVELS = [
  { dimension: 'country', reason: REASON.COUNTRY, read: (input: MatchInput) => input.country },
  { dimension: 'region', reason: REASON.REGION, read: (input: MatchInput) => input.region },
  { dimension: 'city', reason: REASON.CITY, read: (input: MatchInput) => input.city },
] as const;

function includedAt(level: GeoLevel, input: MatchInput): boolean {
  const value = level.read(input);
  return value !== null && level.included.has(value);
}

/**
 * Country, region and city (reasons 9, 10, 11). Each level is an ordinary include/exclude list,
 * except that a visitor on a broader level's exclude list passes that level when a more specific
 * level explicitly includes them: "exclude US, include city New York" accepts New York (SPEC §6).
 */
export function compileGeo(rules: readonly Rule[]): RuleCheck[] {
  const levels: GeoLevel[] = LEVELS.map((spec) => {
    const { include, exclude } = rulesFor(rules, spec.dimension);
    return { ...spec, included: valueSet(include), excluded: valueSet(exclude), hasIncludes: include.length > 0 };
  });
  const checks: RuleCheck[] = [];
  levels.forEach((level, index) => {
    if (!level.hasIncludes && level.excluded.size === 0) return;
    const moreSpecific = levels.slice(index + 1).filter((l) => l.hasIncludes);
    const { dimension, reason, read, included, excluded, hasIncludes } = level;
    // Include-only levels (the usual "these countries") skip the empty exclude set: on links with
    // hundreds of entries every extra object a check reads is a likely cache miss.
    if (excluded.size === 0) {
      checks.push({ dimension, reason, test: (input) => { const v = read(input); return v !== null && included.has(v); } });
      return;
    }
    checks.push({
      dimension,
      reason,
      test(input) {
        const value = read(input);
        if (value === null) return !hasIncludes;
        if (hasIncludes && !included.has(value)) return false;
        return !excluded.has(value) || moreSpecific.some((l) => includedAt(l, input));
      },
    });
  });
  return checks;
}

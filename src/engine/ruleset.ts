import type { Ruleset } from '../domain/schemas/ruleset.js';
import type { CheckName, CheckResult } from './decision.js';
import type { MatchInput } from './match-input.js';
import { compileRuleChecks, type RuleCheck } from './rules/index.js';

/**
 * A ruleset ready for the click path. The trace records of passing and failing are built here,
 * once, and shared by every decision: evaluating a ruleset allocates nothing.
 */
export interface CompiledRuleset {
  readonly checks: readonly RuleCheck[];
  readonly passed: CheckResult;
  /** failed[i] is the trace record when checks[i] is the first to fail. */
  readonly failed: readonly CheckResult[];
}

export function compileRuleset(ruleset: Ruleset | null | undefined, check: CheckName): CompiledRuleset {
  const checks = compileRuleChecks(ruleset);
  return {
    checks,
    passed: Object.freeze({ check, pass: true, reason: null }),
    failed: checks.map((rule) => Object.freeze({ check, pass: false, reason: rule.reason, dimension: rule.dimension })),
  };
}

/**
 * A compileRuleset that hands out one shared compiled ruleset for equal rulesets (one per snapshot
 * build). Catalogues repeat targeting ("US, mobile"), and a link's decision touches every entry's
 * rulesets: fewer distinct objects keep a large link's working set inside the CPU caches, and
 * sharing is safe because a compiled ruleset is immutable.
 */
export function rulesetCompiler(): (ruleset: Ruleset | null | undefined, check: CheckName) => CompiledRuleset {
  const compiled = new Map<string, CompiledRuleset>();
  return (ruleset, check) => {
    const key = `${check}:${JSON.stringify(ruleset ?? null)}`;
    let result = compiled.get(key);
    if (result === undefined) compiled.set(key, (result = compileRuleset(ruleset, check)));
    return result;
  };
}

/** The trace record of the first failing check, or `passed`. */
export function evaluateRuleset(ruleset: CompiledRuleset, input: MatchInput): CheckResult {
  const { checks } = ruleset;
  for (let i = 0; i < checks.length; i++) {
    if (!checks[i]?.test(input)) return ruleset.failed[i] ?? ruleset.passed;
  }
  return ruleset.passed;
}

import { dayPartingOf, type Ruleset } from '../../domain/schemas/ruleset.js';
import { browserDimension } from './browser.js';
import { brandDimension } from './brand.js';
import { compileDayParting } from './day-parting.js';
import { deviceTypeDimension } from './device-type.js';
import { compileGeo } from './geo.js';
import { compileIp } from './ip.js';
import { isBotDimension } from './is-bot.js';
import { languageDimension } from './language.js';
import { compileOsVersion } from './os-version.js';
import { osDimension } from './os.js';
import type { RuleCheck } from './rule-check.js';
import { sourceIdDimension } from './source-id.js';
import { subDimensions } from './sub-ids.js';
import { compileValueList } from './value-list.js';

export type { RuleCheck } from './rule-check.js';

/**
 * Compiles a ruleset into its checks, one per targeted dimension, in a fixed order (geo, device,
 * network, variables, bot, time) so the reported reason never depends on how rules were listed.
 * An empty or absent ruleset compiles to no checks: it accepts everything.
 */
export function compileRuleChecks(ruleset: Ruleset | null | undefined): RuleCheck[] {
  const rules = ruleset?.rules ?? [];
  const checks: (RuleCheck | null)[] = [
    ...compileGeo(rules),
    compileValueList(osDimension, rules),
    compileOsVersion(rules),
    compileValueList(deviceTypeDimension, rules),
    compileValueList(browserDimension, rules),
    compileValueList(brandDimension, rules),
    compileValueList(languageDimension, rules),
    compileIp(rules),
    ...subDimensions.map((dimension) => compileValueList(dimension, rules)),
    compileValueList(sourceIdDimension, rules),
    compileValueList(isBotDimension, rules),
    compileDayParting(dayPartingOf(ruleset)),
  ];
  return checks.filter((check): check is RuleCheck => check !== null);
}

/** The routing engine's public surface. Pure: see README.md for the import rule and invariants. */
export { buildSnapshot, createSnapshotMemo, kpiSettingsView, type SnapshotData, type SnapshotMemo } from './build-snapshot.js';
export { goalOf, isRateMetric } from './kpi/metric.js';
export type { ClickContext, OfferCookieIds, VisitorGeo } from './context.js';
export { decide, type DecideOptions } from './decide.js';
export type {
  CandidateTrace, CheckName, CheckResult, Decision, FailTrafficStep, FailTrafficTrace, KpiSample, KpiTrace, Trace, WeightDraw,
} from './decision.js';
export type * from './kpi/model.js';
export { KPI_HISTORY_LOOKBACKS, KPI_METRIC_NAMES } from './kpi/model.js';
export { earlierOf, foldEarlier } from './kpi/earlier.js';
export { runKpi, runStep } from './kpi/run.js';
export { posteriorsInForce } from './kpi/thompson.js';
export { MAX_DEEP_LINK_LENGTH, checkDeepLink, type DeepLinkVerdict } from './deep-link.js';
export { networkContains, parseIp, parseNetwork, type IpAddress, type IpNetwork } from './ip-address.js';
export { MACROS, compileTemplate, renderTemplate, type MacroFacts, type MacroName, type Template } from './macros.js';
export { REASON, type ReasonCode } from './reasons.js';
export { MAX_FAIL_TRAFFIC_HOPS } from './resolution.js';
export { seededRng, type Rng } from './rng.js';
export type { AccessView, CapView, Snapshot, SmartLinkView, OfferView, RedirectMode } from './snapshot.js';
export { allClear, type StateView } from './state-view.js';
export {
  VISITOR_IDENTIFIERS, lastClickKey, rememberedKey, visitorIdOf, visitorKey, type VisitorFacts, type VisitorIdentifier,
} from './visitor-key.js';

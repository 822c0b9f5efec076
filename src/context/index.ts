/** Click-context building (SPEC §4.2): the adapter that turns request facts into engine input. */
export { MAX_QUERY_VALUE_LENGTH, createContextBuilder, openContextBuilder, type ContextBuilder, type RawClick } from './build-context.js';
export { UNKNOWN_GEO, bundledCountryDbPath, openGeoLookup, publicAddress, toVisitorGeo, type GeoLookup } from './geo.js';
export { primaryLanguage } from './language.js';
export { createUserAgentParser, type ParsedAgent, type UserAgentParser } from './user-agent.js';
export { canonicalIp } from './ip-text.js';

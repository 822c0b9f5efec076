/** Recording conversions; see README.md. */
export { currentPostbackUrl } from './current-postback-url.js';
export { postbackUrlPieces, type PostbackFacts } from './postback-url.js';
export { recordConversion, type ConversionReport, type RecordDeps, type RecordResult } from './record-conversion.js';

import type { NamedEntity, RollupGroup, RollupQuery, SkipCount } from '../../ports/report-reader.js';

/** A ReportReader call sent to the report thread. */
export type ReportCall = { id: number } & (
  | { method: 'rollups'; args: [RollupQuery] }
  | { method: 'skipReasons'; args: [{ smartLinkId: number; partnerId?: number; from: string; to: string }] }
  | { method: 'names'; args: [NamedEntity, readonly number[]] }
);

export type ReportResult = RollupGroup[] | SkipCount[] | Map<number, string>;

export type ReportReply = { id: number } & ({ ok: true; result: ReportResult } | { ok: false; message: string });

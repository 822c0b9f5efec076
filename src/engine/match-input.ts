import { parseVersion } from '../domain/version.js';
import type { ClickContext } from './context.js';
import { parseIp, type IpAddress } from './ip-address.js';

/**
 * The click context in the form rules compare against, computed once per decision so that no
 * rule lower-cases, splits or parses anything per entry.
 */
export interface MatchInput {
  readonly country: string | null;
  readonly region: string | null;
  readonly city: string | null;
  readonly os: string | null;
  readonly osVersion: readonly number[] | null;
  readonly deviceType: string | null;
  readonly browser: string | null;
  readonly brand: string | null;
  readonly language: string | null;
  readonly ip: IpAddress | null;
  readonly isBot: 'true' | 'false';
  /** sub1 … sub5 at indexes 0 … 4. */
  readonly subs: readonly (string | null)[];
  readonly sourceId: string | null;
  readonly timeMs: number;
  readonly timeZone: string | null;
}

const lower = (value: string | null): string | null => (value === null || value === '' ? null : value.toLowerCase());

export function toMatchInput(ctx: ClickContext): MatchInput {
  return {
    country: lower(ctx.geo.country),
    region: lower(ctx.geo.region),
    city: lower(ctx.geo.city),
    os: lower(ctx.device.os),
    osVersion: parseVersion(ctx.device.os_version),
    deviceType: lower(ctx.device.device_type),
    browser: lower(ctx.device.browser),
    brand: lower(ctx.device.brand),
    language: lower(ctx.device.language),
    ip: parseIp(ctx.ip),
    isBot: ctx.is_bot ? 'true' : 'false',
    subs: [lower(ctx.sub1), lower(ctx.sub2), lower(ctx.sub3), lower(ctx.sub4), lower(ctx.sub5)],
    sourceId: lower(ctx.source_id),
    timeMs: ctx.time_ms,
    timeZone: ctx.geo.time_zone,
  };
}

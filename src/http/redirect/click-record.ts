import type { ClickRecord } from '../../domain/click.js';
import type { TrackingLinkRecord } from '../../domain/records.js';
import { visitorIdOf, type ClickContext, type Decision } from '../../engine/index.js';

/** The row stored for one click: the decision, the parsed visitor and the tracking link. */
export function toClickRecord(decision: Decision, ctx: ClickContext, link: TrackingLinkRecord): ClickRecord {
  return {
    transaction_id: ctx.transaction_id,
    time: new Date(ctx.time_ms).toISOString(),
    smart_link_id: link.smart_link_id,
    partner_id: link.partner_id,
    tracking_token: link.token,
    entry_id: decision.entry_id,
    offer_id: decision.offer_id,
    offer_url_id: decision.offer_url_id,
    advertiser_id: decision.advertiser_id,
    outcome: decision.outcome,
    reason: decision.reason,
    skipped: decision.skipped,
    is_unique: decision.is_unique,
    ip: ctx.ip,
    user_agent: ctx.user_agent,
    device: ctx.device,
    geo: { country: ctx.geo.country, region: ctx.geo.region, city: ctx.geo.city },
    sub1: ctx.sub1,
    sub2: ctx.sub2,
    sub3: ctx.sub3,
    sub4: ctx.sub4,
    sub5: ctx.sub5,
    source_id: ctx.source_id,
    idfa: ctx.idfa,
    gaid: ctx.gaid,
    visitor_id: visitorIdOf(ctx, decision.offer_id),
    destination: decision.destination_url,
    deep_link: decision.deep_link,
    kpi_run_id: decision.kpi_run_id,
  };
}

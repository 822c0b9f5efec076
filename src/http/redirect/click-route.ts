import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContextBuilder } from '../../context/index.js';
import type { ClickRecord } from '../../domain/click.js';
import { decide, type ClickContext, type Decision, type Rng, type Snapshot } from '../../engine/index.js';
import type { TrackingLinkIndex } from '../../live/tracking-link-index.js';
import type { Metrics } from '../../observability/metrics.js';
import type { ClickWriter } from '../../ports/click-writer.js';
import type { LiveState, Reservation } from '../../ports/live-state.js';
import { bouncePage, notFound, redirectTo, type Answer } from './answer.js';
import { BOUNCE_PATH, type BounceSigner } from './bounce-signer.js';
import { toClickRecord } from './click-record.js';
import { newTransactionId } from './transaction-id.js';
import { offerCookie, offerCookieMaxAge, readOfferCookies } from './offer-cookie.js';
import { clientIp } from '../client-ip.js';
import { parsedWhole } from '../parsed-whole.js';

export interface ClickPathDeps {
  snapshot: () => Snapshot;
  trackingLinks: TrackingLinkIndex;
  contexts: ContextBuilder;
  writer: ClickWriter;
  /** Caps counters and visitor memory: asked during decide, reserved right after it. */
  live: LiveState;
  rng: Rng;
  metrics: Metrics;
  signer: BounceSigner;
  now: () => number;
  /** PUBLIC_URL is https: the tracking URLs of links without a tracking domain are served over HTTPS. */
  publicUrlIsHttps: boolean;
}

const SUBS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** Query values as single strings: a repeated parameter keeps its first value. */
function flatQuery(query: unknown): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') flat[key] = first;
  }
  return flat;
}

/** Clicks that reached an offer count toward its caps and its visitor memory (SPEC §8, §9). */
const COUNTED: ReadonlySet<Decision['outcome']> = new Set(['routed', 'catch_all', 'fail_traffic']);

function unavailable(): Answer {
  return { status: 503, headers: { 'cache-control': 'no-store', 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }, body: 'Temporarily unavailable' };
}

/** The click stores only the skipped entries of its trace (see DecideOptions.lean). */
const CLICK_DECISION = { lean: true } as const;

/**
 * The click path (SPEC §4): resolve the token from memory, route with the pure engine, store the
 * click durably, then answer. No database read happens here, and nothing is answered with a
 * redirect before its click is committed.
 */
export async function registerClickPath(app: FastifyInstance, deps: ClickPathDeps, options: { requestLogging: boolean }): Promise<void> {
  await app.register(async (clicks) => {
    // Without request logging, a click's logger is the server's own: a child logger per request
    // (request id bindings) was ~8 % of a click's garbage, and the one line the path may write
    // names the click's transaction id instead.
    if (!options.requestLogging) clicks.setChildLoggerFactory((logger) => logger);
    registerRoutes(clicks, deps);
  });
}

/** A click as routed, before anything about it is stored. */
interface RoutedClick {
  readonly decision: Decision;
  readonly ctx: ClickContext;
  readonly record: ClickRecord;
  readonly snapshot: Snapshot;
  readonly partnerId: number;
  readonly now: number;
}

/** Resolves the token and routes the click with the pure engine; null = unknown link. */
function routeClick(request: FastifyRequest, deps: ClickPathDeps): RoutedClick | null {
  const link = deps.trackingLinks.get((request.params as { token: string }).token);
  if (link === undefined) return null;
  const query = flatQuery(request.query);
  // An empty value (a partner's unfilled macro) is no value: the tracking link's default stands.
  for (const sub of SUBS) if (!query[sub] && link[sub] !== null) query[sub] = link[sub] ?? undefined;
  const now = deps.now();
  const ctx = deps.contexts.build({
    transaction_id: newTransactionId(now),
    time_ms: now,
    ip: clientIp(request),
    user_agent: request.headers['user-agent'] ?? null,
    accept_language: request.headers['accept-language'] ?? null,
    query,
    offer_cookies: readOfferCookies(request.headers.cookie),
  });
  const snapshot = deps.snapshot();
  const decision = decide(snapshot, link.smart_link_id, link.partner_id, ctx, deps.live.viewAt(now), deps.rng, CLICK_DECISION);
  if (decision === null) return null;
  return { decision, ctx, record: toClickRecord(decision, ctx, link), snapshot, partnerId: link.partner_id, now };
}

/**
 * Whether the click came over HTTPS. Switchyard speaks plain HTTP, so an https tracking URL always
 * reaches it through a TLS-terminating proxy, which it sees as https only when TRUST_PROXY names the
 * proxy and the proxy sends X-Forwarded-Proto. The link's published scheme (its tracking domain's,
 * else PUBLIC_URL's) says it too: without it the cookie was SameSite=Lax, which browsers do not send
 * with the advertiser's cookie pixel (a cross-site image), so every cookie conversion was lost.
 */
function servedOverHttps(request: FastifyRequest, routed: RoutedClick, publicUrlIsHttps: boolean): boolean {
  if (request.protocol === 'https') return true;
  const domainId = routed.snapshot.smartLinks.get(routed.record.smart_link_id)?.trackingDomainId ?? null;
  return domainId === null ? publicUrlIsHttps : routed.snapshot.trackingDomains.get(domainId)?.scheme === 'https';
}

function answerOf(routed: RoutedClick, deps: ClickPathDeps): Answer {
  return redirectTo(routed.decision.destination_url, routed.decision.redirect_mode, (to) => deps.signer.path(to));
}

function registerRoutes(app: FastifyInstance, deps: ClickPathDeps): void {
  // Link checkers, chat unfurlers and mail scanners probe links with HEAD. A probe is answered as
  // a click would be, but is not one: nothing is stored, counted toward caps or remembered of the
  // visitor, and no cookie is set. Declared before the GET route, so Fastify does not derive a HEAD
  // route from it that would run the whole click.
  app.head('/sl/:token', { schema: { hide: true } }, async (request, reply) => {
    const routed = routeClick(request, deps);
    return send(reply, routed === null ? notFound() : answerOf(routed, deps));
  });

  app.get('/sl/:token', { schema: { hide: true } }, async (request, reply) => {
    const started = performance.now();
    // A request the parser refuses after its headers is answered 400 and must not be a click. Waited
    // for before deciding: between decide and reserveClick no other click may run (a pipelined one,
    // parsed in the same read, decided meanwhile against the same caps and overshot a hard cap).
    if (!(await parsedWhole(request, reply))) return reply;
    const routed = routeClick(request, deps);
    if (routed === null) {
      // A partner's broken or retired link: nothing is stored, so only this counter shows the traffic lost.
      deps.metrics.clicks.inc({ outcome: 'not_found', reason: '' });
      return send(reply, notFound());
    }
    const { decision, ctx, record, snapshot, partnerId, now } = routed;
    // Same synchronous turn as decide: no other click can read the caps between the check and this
    // increment, so a hard cap is never overshot on one node. Undone below if the write fails.
    let reservation: Reservation | null = null;
    if (decision.offer_id !== null && COUNTED.has(decision.outcome)) {
      reservation = deps.live.reserveClick({
        offerId: decision.offer_id,
        partnerId,
        timeMs: now,
        visitor: { visitorId: record.visitor_id, ip: ctx.ip, userAgent: ctx.user_agent, gaid: ctx.gaid, idfa: ctx.idfa },
      });
    }

    try {
      await deps.writer.write(record);
      reservation?.confirm();
    } catch (err) {
      reservation?.release();
      // Without a stored click there is no redirect: the visitor may retry, nothing is lost silently.
      request.log.error({ err, transaction_id: ctx.transaction_id }, 'click could not be stored');
      deps.metrics.clicks.inc({ outcome: 'unstored', reason: '' });
      // Answered too, and usually slowly (a lock waited out): left out, an incident would show as fast clicks.
      deps.metrics.clickLatency.observe((performance.now() - started) / 1000);
      return send(reply, unavailable());
    }

    const answer = answerOf(routed, deps);
    const offer = decision.offer_id === null ? undefined : snapshot.offers.get(decision.offer_id);
    if (offer !== undefined) {
      const cookie = { transactionId: ctx.transaction_id, visitorId: record.visitor_id };
      reply.header('set-cookie', offerCookie(offer.id, cookie, offerCookieMaxAge(offer), servedOverHttps(request, routed, deps.publicUrlIsHttps)));
    }
    deps.metrics.clicks.inc({ outcome: decision.outcome, reason: String(decision.reason ?? '') });
    deps.metrics.clickLatency.observe((performance.now() - started) / 1000);
    return send(reply, answer);
  });

  app.get(BOUNCE_PATH, { schema: { hide: true } }, async (request, reply) => {
    const { to, sig } = flatQuery(request.query);
    if (to === undefined || sig === undefined || !deps.signer.verify(to, sig)) return send(reply, notFound());
    return send(reply, bouncePage(to));
  });
}

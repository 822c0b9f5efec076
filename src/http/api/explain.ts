import { randomInt } from 'node:crypto';
import net from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { DateTime, ErrorBody, Id, IdParams, Nullable, StringEnum } from '../../domain/schemas/common.js';
import { microsToNumber } from '../../domain/money.js';
import { MAX_DEEP_LINK_LENGTH, decide, lastClickKey, seededRng, visitorKey, type CandidateTrace, type ClickContext, type Decision, type Snapshot, type StateView } from '../../engine/index.js';
import type { LiveState } from '../../ports/live-state.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps, EngineDeps } from './deps.js';
import { principalOf } from './helpers.js';
import { readOfferCookies } from '../redirect/offer-cookie.js';

const QueryValue = Type.String({ maxLength: 4096 });
const NullableText = (maxLength: number) => Nullable(Type.String({ maxLength }));

export const ExplainBody = Type.Object(
  {
    partner_id: Id,
    ip: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'IPv4 or IPv6 address' }))),
    user_agent: Type.Optional(NullableText(4096)),
    accept_language: Type.Optional(NullableText(1024)),
    cookie: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 8192,
          description:
            'The Cookie header the browser would send, e.g. `sy_o12=<transaction id>.<visitor id>; theme=dark`: its offer cookies (`sy_o<offer id>`) are ' +
            'read as the click reads them, so a returning browser is recognised by the `cookie` identifier and `{unique_click}`; other cookies are ignored.',
        }),
      ),
    ),
    query: Type.Optional(
      Type.Object(
        {
          sub1: Type.Optional(QueryValue), sub2: Type.Optional(QueryValue), sub3: Type.Optional(QueryValue),
          sub4: Type.Optional(QueryValue), sub5: Type.Optional(QueryValue), source_id: Type.Optional(QueryValue),
          url: Type.Optional(Type.String({ maxLength: MAX_DEEP_LINK_LENGTH })), idfa: Type.Optional(QueryValue), gaid: Type.Optional(QueryValue),
        },
        { additionalProperties: false, description: 'The tracking URL query parameters of the simulated click.' },
      ),
    ),
    at: Type.Optional({
      ...DateTime,
      description:
        'Click time; default now. The duplicate memory keeps only each visitor\'s latest click: when that click is after `at`, it cannot make this one a ' +
        'duplicate, and whether an earlier click fell within the window is unknown (the candidate\'s `duplicate.seen` is null and a note says so).',
    }),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Makes weighted draws reproducible.' })),
  },
  { additionalProperties: false },
);
type ExplainBody = Static<typeof ExplainBody>;

const Candidate = Type.Object({
  entry_id: Nullable(Type.Integer()),
  offer_id: Type.Integer(),
  offer_url_id: Nullable(Type.Integer()),
  eligible: Type.Boolean(),
  reason: Nullable(Type.Integer()),
  checks: Type.Array(
    Type.Object({ check: Type.String(), pass: Type.Boolean(), reason: Nullable(Type.Integer()), dimension: Type.Optional(Type.String()) }),
  ),
  caps: Type.Array(
    Type.Object({
      scope: StringEnum(['offer', 'partner'] as const),
      metric: Type.String(),
      period: Type.String(),
      period_key: Type.String({ description: "The current period in the offer's caps time zone." }),
      mode: StringEnum(['hard', 'soft'] as const),
      limit: Type.Number(),
      used: Type.Number({ description: 'Counted so far in the current period (clicks, conversions, or money for payout and revenue).' }),
    }),
    { description: "The offer's caps and this partner's caps on it, with their usage now." },
  ),
  duplicate: Nullable(
    Type.Object({
      enabled: Type.Boolean(),
      identifier: Type.String(),
      window_hours: Type.Integer(),
      identified: Type.Boolean({ description: 'The click carries this identifier (else it cannot be recognised and counts as new).' }),
      seen: Nullable(
        Type.Boolean({
          description:
            'The same visitor clicked the offer within the window before the click (any partner). Null when unknown: the latest click memory holds ' +
            'is after `at`, and memory keeps no earlier one; explained as not a duplicate.',
        }),
      ),
      last_click_at: Nullable({
        ...DateTime,
        description: "The visitor's latest click on the offer: the one its offer cookie names, or for other identifiers the one memory holds (within the window).",
      }),
      already_converted: Type.Boolean(),
    }),
  ),
});

const KpiTrace = Type.Object(
  {
    phase: StringEnum(['collecting', 'optimising'] as const, { description: 'collecting: no model yet, entries drawn by weight.' }),
    algorithm: StringEnum(['thompson', 'ranking'] as const),
    epoch: Type.Integer(),
    run_id: Nullable(Type.Integer({ description: 'The KPI run whose model routed the click.' })),
    samples: Type.Array(
      Type.Object({
        entry_id: Type.Integer(),
        sample: Type.Number({ description: 'The posterior draw of the metric per click (rates in percent).' }),
        score: Type.Number({ description: 'The draw, or its negative distance to the goal; the highest wins.' }),
      }),
      { description: 'Thompson: one draw per eligible entry.' },
    ),
  },
  { description: 'KPI links only: how the optimisation routed this click.' },
);

const ExplainResponse = Type.Object({
  seed: Type.Integer({ description: 'Send it back to replay the same draws.' }),
  context: Type.Object(
    {
      offer_cookies: Type.Object(
        {},
        {
          additionalProperties: Type.Object({ transaction_id: Type.String(), visitor_id: Type.String() }),
          description: 'The offer cookies (`sy_o<offer id>`) read from the `cookie` field, by offer id: the click each names and the visitor id the `cookie` duplicate identifier and `{unique_click}` use. Empty without a `cookie`.',
        },
      ),
    },
    { additionalProperties: true, description: 'The click as the engine sees it: visitor, device, geo, subs, deep link, offer cookies.' },
  ),
  routing: Type.String(),
  order: Type.Array(Type.Integer()),
  draw: Type.Unknown(),
  candidates: Type.Array(Candidate),
  catch_all: Nullable(Candidate),
  fail_traffic: Type.Unknown(),
  kpi: Nullable(KpiTrace),
  notes: Type.Array(Type.String()),
  decision: Type.Object({}, { additionalProperties: true }),
});

// Explain records no click, so it has no transaction id of its own; a fixed one keeps the
// destination URL reproducible for a given seed.
const EXPLAIN_TRANSACTION_ID = '0'.repeat(32);

function presentContext(ctx: ClickContext) {
  const { device, geo } = ctx;
  return {
    time: new Date(ctx.time_ms).toISOString(),
    ip: ctx.ip, ...device, is_bot: ctx.is_bot, geo,
    sub1: ctx.sub1, sub2: ctx.sub2, sub3: ctx.sub3, sub4: ctx.sub4, sub5: ctx.sub5, source_id: ctx.source_id,
    deep_link: ctx.deep_link, idfa: ctx.idfa, gaid: ctx.gaid,
    offer_cookies: Object.fromEntries(
      [...ctx.offer_cookies].map(([offerId, cookie]) => [offerId, { transaction_id: cookie.transactionId, visitor_id: cookie.visitorId }]),
    ),
  };
}

const MONEY: ReadonlySet<string> = new Set(['payout', 'revenue']);

interface ExplainState {
  snapshot: Snapshot;
  live: LiveState;
  /** The view the engine was asked through. */
  state: StateView;
  /** Offers whose duplicate status as of `at` memory cannot tell, with the later click it holds (see viewAsOf). */
  undetermined: Map<number, number>;
  /** `at` is before now: the live state is today's, not the one that stood then. */
  pastAt: boolean;
  partnerId: number;
  ctx: ClickContext;
}

const HOUR_MS = 3_600_000;

/**
 * The live state as of a past `at`. The duplicate memory keeps only each visitor's latest click,
 * so when that click is after `at` it is all memory knows of the visitor: it cannot make a click
 * at `at` a duplicate, and whether an earlier one fell within the window is unknown. Such a click
 * is explained as new, and its offer noted in `undetermined`. (The click path keeps asking
 * `viewAt(now)`, where a clock stepped back still counts a later click as within the window.)
 */
function viewAsOf(live: LiveState, atMs: number, undetermined: Map<number, number>): StateView {
  const view = live.viewAt(atMs);
  return {
    capReached: (offerId, partnerId) => view.capReached(offerId, partnerId),
    alreadyConverted: (offerId, key) => view.alreadyConverted(offerId, key),
    isDuplicate: (offerId, key, windowHours) => {
      const last = live.lastClickAt(offerId, key);
      if (last === null) return false;
      if (last > atMs) {
        undetermined.set(offerId, last);
        return false;
      }
      return atMs - last < windowHours * HOUR_MS;
    },
  };
}

/** A candidate with its caps usage and visitor memory, read from the live state without changing it. */
function withState(candidate: CandidateTrace, view: ExplainState): CandidateTrace & { caps: unknown[]; duplicate: unknown } {
  const offer = view.snapshot.offers.get(candidate.offer_id);
  const caps = view.live.capUsage(candidate.offer_id, view.partnerId, view.ctx.time_ms).map((usage) => ({
    scope: usage.scope,
    metric: usage.metric,
    period: usage.period,
    period_key: usage.periodKey,
    mode: usage.mode,
    limit: MONEY.has(usage.metric) ? microsToNumber(usage.limit) : usage.limit,
    used: MONEY.has(usage.metric) ? microsToNumber(usage.used) : usage.used,
  }));
  if (offer === undefined) return { ...candidate, caps, duplicate: null };
  const { enabled, identifier, windowHours } = offer.duplicateFilter;
  const key = visitorKey(identifier, view.ctx, offer.id);
  const lastClick = lastClickKey(identifier, view.ctx, offer.id);
  const seen = lastClick !== null && view.state.isDuplicate(offer.id, lastClick, windowHours);
  const lastClickAt = lastClick === null ? null : view.live.lastClickAt(offer.id, lastClick);
  return {
    ...candidate,
    caps,
    duplicate: {
      enabled,
      identifier,
      window_hours: windowHours,
      identified: key !== null,
      seen: view.undetermined.has(offer.id) ? null : seen,
      last_click_at: lastClickAt === null ? null : new Date(lastClickAt).toISOString(),
      already_converted: key !== null && view.state.alreadyConverted(offer.id, key),
    },
  };
}


/**
 * Caps counters hold only the current periods and count every click up to now, and the duplicate
 * memory forgets a visitor once their latest click is a window old: a click explained at a past `at`
 * is checked against today's state, which may not be what routed it then.
 */
const PAST_AT_NOTE =
  '`at` is in the past, and explain checks it against the state as it stands now: caps use the counters of the current periods ' +
  '(every click up to now, not the periods `at` fell in), and the duplicate memory holds only visitors whose latest click is within ' +
  "each offer's window before now; where those differ from then, the real click was routed otherwise";

function presentDecision(decision: Decision, seed: number, ctx: ClickContext, view: ExplainState) {
  const { trace, ...rest } = decision;
  const candidates = trace.candidates.map((candidate) => withState(candidate, view));
  const catchAll = trace.catch_all === null ? null : withState(trace.catch_all, view);
  const undetermined = [...view.undetermined].map(([offerId, lastMs]) => {
    const hours = view.snapshot.offers.get(offerId)?.duplicateFilter.windowHours;
    return (
      `offer ${offerId}: the visitor's latest click on it that memory holds (${new Date(lastMs).toISOString()}) is after \`at\`, and memory keeps ` +
      `no earlier one, so whether the visitor clicked it within the ${hours} h before \`at\` is unknown; explained as a new visitor ` +
      '(not a duplicate, {unique_click} 1)'
    );
  });
  return {
    seed,
    context: presentContext(ctx),
    routing: trace.routing,
    order: trace.order,
    draw: trace.draw,
    candidates,
    catch_all: catchAll,
    fail_traffic: trace.fail_traffic,
    kpi: trace.kpi,
    notes: [...trace.notes, ...undetermined, ...(view.pastAt ? [PAST_AT_NOTE] : [])],
    decision: rest,
  };
}

function checkedIp(ip: string | null | undefined): string | null {
  if (ip === undefined || ip === null) return null;
  if (net.isIP(ip) === 0) throw AppError.invalid([{ path: 'ip', message: 'must be an IPv4 or IPv6 address' }]);
  return ip;
}

/**
 * `POST /smart-links/:id/explain` (SPEC §4.8): runs the real engine on a described click and shows
 * every check. It reads the snapshot and a read-only state view, and writes nothing.
 */
export function registerExplain(app: FastifyInstance, deps: ApiDeps & { engine: EngineDeps }): void {
  const { engine } = deps;
  app.post('/smart-links/:id/explain', {
    schema: {
      tags: ['smart links'],
      summary: 'Dry-run a click: the parsed context, every entry with its checks, and the decision',
      params: IdParams,
      body: ExplainBody,
      response: { 200: ExplainResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      const body = request.body as ExplainBody;
      const snapshot = await engine.settledSnapshot();
      const link = snapshot.smartLinks.get(id);
      if (link === undefined || link.status === 'deleted') throw AppError.notFound('smart link');
      if (!snapshot.partners.has(body.partner_id)) {
        throw AppError.invalid([{ path: 'partner_id', message: `partner ${body.partner_id} does not exist` }]);
      }
      const ctx = engine.contextBuilder.build({
        transaction_id: EXPLAIN_TRANSACTION_ID,
        time_ms: body.at === undefined ? engine.now() : Date.parse(body.at),
        ip: checkedIp(body.ip),
        user_agent: body.user_agent ?? null,
        accept_language: body.accept_language ?? null,
        query: body.query ?? {},
        offer_cookies: readOfferCookies(body.cookie ?? undefined),
      });
      const seed = body.seed ?? randomInt(0, 2 ** 32);
      // Without `at` the click is asked about exactly as a real click now would be.
      const undetermined = new Map<number, number>();
      const state = body.at === undefined ? engine.live.viewAt(ctx.time_ms) : viewAsOf(engine.live, ctx.time_ms, undetermined);
      const decision = decide(snapshot, id, body.partner_id, ctx, state, seededRng(seed), { traceAll: true });
      if (decision === null) throw AppError.notFound('smart link');
      const pastAt = body.at !== undefined && ctx.time_ms < engine.now();
      return presentDecision(decision, seed, ctx, { snapshot, live: engine.live, state, undetermined, pastAt, partnerId: body.partner_id, ctx });
    },
  });
}

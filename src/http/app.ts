import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TextDecoder } from 'node:util';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { AppError } from '../domain/errors.js';
import { canonicalIp, type ContextBuilder } from '../context/index.js';
import { createSnapshotHolder, type SnapshotHolder } from '../live/snapshot-holder.js';
import type { Metrics } from '../observability/metrics.js';
import type { ClickWriter } from '../ports/click-writer.js';
import type { ConversionWriter } from '../ports/conversion-writer.js';
import type { LiveState } from '../ports/live-state.js';
import type { Store } from '../ports/store.js';
import { registerAdvertisers } from './api/advertisers.js';
import { registerClicks } from './api/clicks.js';
import { registerConversions } from './api/conversions.js';
import type { ApiDeps, EngineDeps } from './api/deps.js';
import { registerExplain } from './api/explain.js';
import { registerOfferAccess } from './api/offer-access.js';
import { registerOfferUrls } from './api/offer-urls.js';
import { registerNotifications } from './api/notifications.js';
import { registerOffers } from './api/offers.js';
import { registerPartnerPostbacks } from './api/partner-postbacks.js';
import { registerKpi } from './api/kpi.js';
import { registerReports } from './api/reports.js';
import { registerPartners } from './api/partners.js';
import { registerSettings } from './api/settings.js';
import { registerSmartLinks } from './api/smart-links.js';
import { registerTrackingDomains } from './api/tracking-domains.js';
import { registerTrackingLinks } from './api/tracking-links.js';
import { TrackingLinkIndex } from '../live/tracking-link-index.js';
import { authenticate, requireAdmin } from './auth.js';
import { registerConversionPaths } from './conversion/conversion-routes.js';
import { answerClientError, installErrorHandling } from './error-handler.js';
import { registerMetrics, registerOps } from './ops.js';
import { notFound } from './redirect/answer.js';
import { BounceSigner } from './redirect/bounce-signer.js';
import { registerClickPath } from './redirect/click-route.js';
import { serializerFormats, validatorCompiler } from './validation.js';
import { clientIp } from './client-ip.js';
import { declaredCharset } from './charset.js';
import { addReportFilters, describeDecimalSteps, documentCommonAnswers, examplesAsExample, type OpenApiDocument } from './openapi-extras.js';
import { loggedRequest } from './request-log.js';
import { parsedWhole } from './parsed-whole.js';

/** The adapters the server runs on, chosen by the composition root (src/server.ts). */
export interface AppDeps {
  config: Config;
  store: Store;
  clickWriter: ClickWriter;
  /** Usually the same writer as clicks: conversions share its thread and its commits. */
  conversionWriter: ConversionWriter;
  contexts: ContextBuilder;
  metrics: Metrics;
  /** The routing snapshot; built here from the store when not given. */
  snapshots?: SnapshotHolder;
  /** Caps counters, duplicate and already-converted memory (SPEC §8, §9). */
  live: LiveState;
  /** The clock of clicks, conversions and explain (tests move it); Date.now by default. */
  now?: () => number;
}

export const API_PREFIX = '/api/v1';

/** How soon a configuration snapshot whose rebuild failed is tried again: doubling up to the maximum. */
const SNAPSHOT_RETRY_MS = 200;
const SNAPSHOT_RETRY_MAX_MS = 5_000;

/** Decodes UTF-8 and throws on a byte sequence that is not UTF-8 (a byte order mark is kept for the JSON parser to skip). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of a JSON body. JSON is UTF-8 (RFC 8259 §8.1), and a charset parameter is no reason to
 * read it otherwise: clients label UTF-8 `us-ascii` (which the Encoding Standard maps to
 * windows-1252, so "Café" became "CafÃ©") or `ISO-8859-1`. Only bytes that are not UTF-8 are read in
 * the declared charset (PowerShell 5 sends ISO-8859-1); without one, or in a charset no decoder
 * knows, they are a 400 rather than stored as U+FFFD.
 */
function jsonText(body: Buffer, charset: string | undefined): string {
  try {
    return UTF8.decode(body);
  } catch {
    if (charset === undefined || /^utf-?8$/i.test(charset)) throw AppError.invalid([], 'the body is not valid UTF-8; send JSON in UTF-8');
  }
  try {
    return new TextDecoder(charset, { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw AppError.invalid([], `the body is neither UTF-8 nor ${charset.slice(0, 40)} as declared; send JSON in UTF-8`);
  }
}

/** Request line and headers together: room for tracking URLs far longer than anyone should send. */
const MAX_REQUEST_HEADER_BYTES = 64 * 1024;

/**
 * A path the router cannot match (bad percent-encoding, a parameter over its length limit): a 404
 * with the click path's headers, or the API's error body elsewhere — never a framework page.
 */
function answerUnroutable(_path: string, req: IncomingMessage, res: ServerResponse): void {
  const isApi = req.url?.startsWith(API_PREFIX) ?? false;
  const answer = isApi
    ? { status: 404, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify({ error: { code: 'not_found', message: 'no such path' } }) }
    : notFound();
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

/** Builds the HTTP server: operations endpoints, the OpenAPI document and the management API. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store } = deps;
  const requestLogging = config.logLevel === 'debug' || config.logLevel === 'trace';
  const app = Fastify({
    logger: { level: config.logLevel, serializers: { req: loggedRequest } },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy ?? false,
    // One log line per request would dominate the click path; debug and trace turn them on.
    logController: new LogController({ disableRequestLogging: !requestLogging }),
    serializerOpts: { ajv: { formats: serializerFormats } },
    // A request that still arrives on an open connection while shutdown drains (pipelined, or on a
    // keep-alive connection a proxy reuses) is served, with `Connection: close`: Fastify's own 503
    // answered a visitor's click with a JSON body and no redirect, and an API client with a body in
    // none of the documented error shapes. /readyz says unready meanwhile (see registerOps).
    return503OnClosing: false,
    // Node's default 16 KiB answered a long tracking URL with 431 before any route saw it; SPEC §4.1
    // wants such a click served with its values cut to 512 characters.
    // Node checks request deadlines on a timer (every 30 s by default), so a short timeout needs a
    // check at least as often to be kept; and it keeps the whole-request deadline only when it is
    // given at construction with a headers deadline no longer than it.
    http: {
      maxHeaderSize: MAX_REQUEST_HEADER_BYTES,
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(config.requestTimeoutMs / 4)),
    },
    requestTimeout: config.requestTimeoutMs,
    clientErrorHandler: answerClientError,
    // Malformed or absurdly long paths never reach a route; answer them like an unknown link. A
    // trailing slash (`/sl/<token>/`, as some ad platforms append) is the same tracking URL.
    routerOptions: { onBadUrl: answerUnroutable, onMaxParamLength: answerUnroutable, ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  app.decorateRequest('principal', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Switchyard management API',
        version: '1',
        description: 'Smart-link routing: advertisers, offers, partners, smart links and their traffic.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transformObject: (documents) => {
      if (!('openapiObject' in documents)) return documents.swaggerObject;
      // A copy: the document's schemas are the routes' own objects, which validate requests.
      const document = structuredClone(documents.openapiObject);
      addReportFilters(document as OpenApiDocument);
      describeDecimalSteps(document);
      examplesAsExample(document);
      return document;
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerOps(app, store, deps.clickWriter);

  const snapshots = deps.snapshots ?? (await createSnapshotHolder(store));
  const trackingLinks = await TrackingLinkIndex.load(store);
  const now = deps.now ?? Date.now;
  const { live } = deps;
  // The write is committed either way. A failed rebuild (the write lock held by the click writer under
  // load, an operator's sqlite3 or another process past the short wait) keeps the previous snapshot;
  // waiting for the next change to retry it left a change that was answered as saved out of the click
  // path for good (SPEC §3: within 1 second). It is tried again until one succeeds.
  let retry: NodeJS.Timeout | undefined;
  let retryMs = SNAPSHOT_RETRY_MS;
  let closing = false;
  const onChange = async (): Promise<void> => {
    await snapshots.rebuild().then(
      () => {
        retryMs = SNAPSHOT_RETRY_MS;
      },
      (err: unknown) => {
        app.log.error({ err, retry_in_ms: retryMs }, 'snapshot rebuild failed; retrying');
        if (retry !== undefined || closing) return;
        retry = setTimeout(() => {
          retry = undefined;
          void onChange();
        }, retryMs);
        retry.unref();
        retryMs = Math.min(SNAPSHOT_RETRY_MAX_MS, retryMs * 2);
      },
    );
  };
  app.addHook('onClose', async () => {
    closing = true;
    clearTimeout(retry);
  });
  const apiDeps: ApiDeps = { config, store, trackingLinks, onChange, now };
  const engine: EngineDeps = { settledSnapshot: () => snapshots.settled(), contextBuilder: deps.contexts, live, now };
  const signingKey = await store.secrets.getOrCreate('bounce-signing-key', () => randomBytes(32).toString('base64url'));

  registerMetrics(app, deps.metrics, { clickWriter: deps.clickWriter, snapshots }, config.metricsToken);
  await registerClickPath(app, {
    snapshot: () => snapshots.current(),
    trackingLinks,
    contexts: deps.contexts,
    writer: deps.clickWriter,
    live,
    rng: { next: Math.random },
    metrics: deps.metrics,
    signer: new BounceSigner(signingKey),
    now,
    publicUrlIsHttps: config.publicUrl?.startsWith('https:') ?? false,
  }, { requestLogging });
  await registerConversionPaths(app, { store, writer: deps.conversionWriter, live, now, inFlight: new Map() }, deps.metrics);
  await app.register(
    async (api) => {
      // Per client address, before authentication, so guessing keys is throttled too.
      await api.register(rateLimit, {
        max: config.apiRateLimitPerMinute,
        timeWindow: 60_000,
        // One budget per client, however many connections (and so source ports) its proxy reports,
        // and however it writes the address (::ffff:8.8.4.4 is 8.8.4.4).
        keyGenerator: (request) => canonicalIp(clientIp(request)) ?? request.ip,
        errorResponseBuilder: (_request, context) =>
          new AppError('rate_limited', `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`),
      });
      api.addHook('onRoute', documentCommonAnswers);
      // An empty body is no body, whatever Content-Type a client sends with it: clients that set
      // `Content-Type: application/json` on every request got 400 on each DELETE and body-less POST.
      // Routes that need a body still refuse a missing one through their schema. The text is decoded
      // by jsonText: bytes that are not UTF-8 were stored as U+FFFD.
      const json = api.getDefaultJsonParser('error', 'error');
      api.removeContentTypeParser('application/json');
      api.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
        if (body.length === 0) return done(null, undefined);
        let text: string;
        try {
          text = jsonText(body as Buffer, declaredCharset(request.headers['content-type']));
        } catch (err) {
          return done(err as Error);
        }
        json(request, text, done);
      });
      // preParsing runs after the rate limit (a route-level onRequest hook) and before the body is read.
      api.addHook('preParsing', async (request, _reply, payload) => {
        request.principal = await authenticate(request, store, config.adminKey);
        // Before the body is read and validated: a partner key on an admin route learns it may not,
        // not what a valid request would be (and gets 403 however it wrote it).
        if (request.routeOptions.config.adminOnly === true) requireAdmin(request.principal);
        return payload;
      });
      // A write whose connection the parser refused meanwhile (bytes after the request that are not
      // HTTP) has been answered 400: it must not happen, or the client's retry does it twice.
      api.addHook('preHandler', async (request, reply) => {
        if (request.method !== 'GET' && request.method !== 'HEAD') await parsedWhole(request, reply);
      });
      registerAdvertisers(api, apiDeps);
      registerOffers(api, apiDeps);
      registerOfferUrls(api, apiDeps);
      registerOfferAccess(api, apiDeps);
      registerPartners(api, apiDeps);
      registerTrackingDomains(api, apiDeps);
      registerSmartLinks(api, apiDeps);
      registerSettings(api, apiDeps);
      registerTrackingLinks(api, apiDeps);
      registerExplain(api, { ...apiDeps, engine });
      registerClicks(api, apiDeps);
      registerConversions(api, apiDeps);
      registerNotifications(api, apiDeps);
      registerPartnerPostbacks(api, apiDeps);
      registerReports(api, apiDeps);
      registerKpi(api, apiDeps);
    },
    { prefix: API_PREFIX },
  );
  return app;
}

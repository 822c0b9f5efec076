import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import type { Store } from '../ports/store.js';
import { registerAdvertisers } from './api/advertisers.js';
import type { ApiDeps, EngineDeps } from './api/deps.js';
import { registerExplain } from './api/explain.js';
import { registerOfferAccess } from './api/offer-access.js';
import { registerOfferUrls } from './api/offer-urls.js';
import { registerOffers } from './api/offers.js';
import { registerPartners } from './api/partners.js';
import { registerSettings } from './api/settings.js';
import { registerSmartLinks } from './api/smart-links.js';
import { registerTrackingDomains } from './api/tracking-domains.js';
import { registerTrackingLinks } from './api/tracking-links.js';
import { TrackingLinkIndex } from '../live/tracking-link-index.js';
import { authenticate } from './auth.js';
import { installErrorHandling } from './error-handler.js';
import { registerOps } from './ops.js';
import { ajvFormats, validatorCompiler } from './validation.js';

export interface AppDeps {
  config: Config;
  store: Store;
  /** Called after every committed configuration change. */
  onChange?: () => void;
  /** The routing engine's inputs; without them the explain endpoint is not offered. */
  engine?: EngineDeps;
}

export const API_PREFIX = '/api/v1';

/** Builds the HTTP server: operations endpoints, the OpenAPI document and the management API. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store } = deps;
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy ?? false,
    // One log line per request would dominate the click path; debug and trace turn them on.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    serializerOpts: { ajv: { formats: ajvFormats } },
    return503OnClosing: true,
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
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerOps(app, store);

  const trackingLinks = await TrackingLinkIndex.load(store);
  const apiDeps: ApiDeps = { config, store, trackingLinks, onChange: deps.onChange ?? (() => {}) };
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        request.principal = await authenticate(request, store, config.adminKey);
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
      if (deps.engine) registerExplain(api, { ...apiDeps, engine: deps.engine });
    },
    { prefix: API_PREFIX },
  );
  return app;
}

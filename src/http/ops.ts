import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { SnapshotHolder } from '../live/snapshot-holder.js';
import type { Metrics } from '../observability/metrics.js';
import type { ClickWriter } from '../ports/click-writer.js';
import type { Store } from '../ports/store.js';
import { bearerToken, secretsEqual } from './auth.js';

/**
 * Liveness and readiness probes for orchestrators and load balancers. Ready means clicks can be
 * stored: the database answers and the click writer has no failed commit standing (see
 * ClickWriter.problem). A node whose disk is full answers clicks 503; a load balancer should send
 * them elsewhere.
 */
export function registerOps(app: FastifyInstance, store: Store, clickWriter: ClickWriter): void {
  // Shutdown has begun: requests still arriving on open connections are served, but a load
  // balancer must send new ones elsewhere.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    if (draining) return reply.code(503).send({ status: 'unavailable', reason: 'shutting down' });
    try {
      await store.ping();
    } catch (err) {
      request.log.warn({ err }, 'storage is not reachable');
      return reply.code(503).send({ status: 'unavailable', reason: 'storage is not reachable' });
    }
    const problem = clickWriter.problem;
    if (problem !== null) return reply.code(503).send({ status: 'unavailable', reason: `clicks cannot be stored: ${problem}` });
    return { status: 'ready' };
  });
}

/**
 * Prometheus text exposition; gauges that are read, not counted, are refreshed per scrape. It shows
 * the network's traffic (clicks by outcome, postback queues) and is served on the public tracking
 * host: with `token` (METRICS_TOKEN) only a scraper presenting it as a Bearer token is answered.
 */
export function registerMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  sources: { clickWriter: ClickWriter; snapshots: SnapshotHolder },
  token: string | undefined,
): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== undefined) {
      const presented = bearerToken(request);
      if (presented === undefined || !secretsEqual(presented, token)) {
        reply.header('www-authenticate', 'Bearer');
        throw new AppError('unauthorized', 'send the METRICS_TOKEN as "Authorization: Bearer <token>"');
      }
    }
    metrics.queueDepth.set(sources.clickWriter.queueDepth);
    metrics.snapshotAge.set((Date.now() - sources.snapshots.builtAtMs()) / 1000);
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

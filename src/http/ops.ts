import type { FastifyInstance } from 'fastify';
import type { Store } from '../ports/store.js';

/** Liveness and readiness probes for orchestrators and load balancers. */
export function registerOps(app: FastifyInstance, store: Store): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'storage is not reachable');
      return reply.code(503).send({ status: 'unavailable', reason: 'storage is not reachable' });
    }
  });
}

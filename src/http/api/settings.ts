import type { FastifyInstance } from 'fastify';
import { ErrorBody, IfMatchHeaders } from '../../domain/schemas/common.js';
import { Settings, SettingsPatch } from '../../domain/schemas/settings.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { expectedVersion, principalOf, unwrapUpdate } from './helpers.js';

/** Network-wide settings, such as the global fail redirect. */
export function registerSettings(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;
  app.get('/settings', {
    schema: { tags: ['settings'], summary: 'Read network settings', response: { 200: Settings, 401: ErrorBody, 403: ErrorBody } },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      return store.settings.get();
    },
  });
  app.put('/settings', {
    schema: {
      tags: ['settings'],
      summary: 'Change network settings (fields left out keep their value)',
      headers: IfMatchHeaders,
      body: SettingsPatch,
      response: { 200: Settings, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const version = expectedVersion(request);
      const updated = await store.transaction(async (tx) => {
        const { version: _current, ...current } = await tx.settings.get();
        return unwrapUpdate(await tx.settings.put({ ...current, ...(request.body as object) }, version), 'settings');
      });
      await deps.onChange();
      return updated;
    },
  });
}

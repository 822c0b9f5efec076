import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Role } from '../domain/records.js';
import type { Store } from '../ports/store.js';

export type Principal = { role: 'admin' } | { role: 'partner'; partnerId: number };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Only admin keys may call the route: a partner key is refused with 403 before its input is read or checked. */
    adminOnly?: boolean;
  }
  interface FastifyRequest {
    /** Set by the API's authentication hook; null outside the API. */
    principal: Principal | null;
  }
}

const KEY_PATTERN = /^sy_(\d{1,15})_([A-Za-z0-9_-]{43})$/;

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Mints a key: `sy_<id>_<secret>`; only the hash of the secret is stored. */
export async function mintKey(store: Store, role: Role, partnerId: number | null): Promise<{ id: number; key: string }> {
  const secret = randomBytes(32).toString('base64url');
  const record = await store.apiKeys.insert({ role, partner_id: partnerId, secret_hash: sha256(secret).toString('hex') });
  return { id: record.id, key: `sy_${record.id}_${secret}` };
}

/** The token of an `Authorization: Bearer <token>` header; undefined without one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return (header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null)?.[1];
}

/**
 * Resolves the caller from `Authorization: Bearer <key>`. The bootstrap admin key from the
 * environment is checked first; minted keys are looked up by id and their secret compared by hash.
 */
export async function authenticate(request: FastifyRequest, store: Store, envAdminKey: string | undefined): Promise<Principal> {
  const presented = bearerToken(request);
  if (presented === undefined) throw new AppError('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
  if (envAdminKey !== undefined && secretsEqual(presented, envAdminKey)) return { role: 'admin' };
  const parts = KEY_PATTERN.exec(presented);
  const record = parts ? await store.apiKeys.get(Number(parts[1])) : undefined;
  if (!parts?.[2] || !record || !timingSafeEqual(sha256(parts[2]), Buffer.from(record.secret_hash, 'hex'))) {
    throw new AppError('unauthorized', 'the API key is not valid');
  }
  if (record.role === 'admin') return { role: 'admin' };
  if (record.partner_id === null) throw new AppError('unauthorized', 'the API key is not valid');
  // Suspending a partner cuts its traffic off; its keys stop working with it, until it is active again.
  const partner = await store.partners.get(record.partner_id);
  if (partner === undefined) throw new AppError('unauthorized', 'the API key is not valid');
  if (partner.status !== 'active') throw new AppError('forbidden', `partner ${partner.id} is ${partner.status}`);
  return { role: 'partner', partnerId: record.partner_id };
}

/** Route config of the routes only admin keys may call (SPEC §3: wrong role → 403, whatever the request holds). */
export const ADMIN_ONLY: { adminOnly: boolean } = { adminOnly: true };

export function requireAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw new AppError('forbidden', 'this needs an admin key');
}

/**
 * On first start with no admin key configured anywhere, creates one and returns it so it can be
 * printed once; afterwards only its hash exists.
 */
export async function bootstrapAdminKey(store: Store, envAdminKey: string | undefined): Promise<string | undefined> {
  if (envAdminKey !== undefined) return undefined;
  if ((await store.apiKeys.countAdmins()) > 0) return undefined;
  return (await mintKey(store, 'admin', null)).key;
}

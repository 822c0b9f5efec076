import type { FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { Meta } from '../../domain/records.js';
import type { ListResult, UpdateResult } from '../../ports/store.js';
import type { Principal } from '../auth.js';

/** The version an `If-Match` header demands (`3`, `"3"` or `W/"3"`), or undefined without one. */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(String(header));
  if (!match) throw AppError.invalid([{ path: 'headers.if-match', message: 'must be the version number to update' }]);
  return Number(match[1]);
}

/** A write whose If-Match names a version that is no longer current (SPEC §3: no lost updates). */
export function staleVersion(noun: string): AppError {
  return new AppError('conflict', `the ${noun} was changed by someone else; read it again and retry with its current version`);
}

export function unwrapUpdate<R>(result: UpdateResult<R>, noun: string): R {
  if (result.ok) return result.record;
  if (result.reason === 'not_found') throw AppError.notFound(noun);
  throw staleVersion(noun);
}

export function found<R>(record: R | undefined, noun: string): R {
  if (record === undefined) throw AppError.notFound(noun);
  return record;
}

export function pageOf<T>(result: ListResult<T>, page: number, pageSize: number) {
  return { data: result.rows, page, page_size: pageSize, total: result.total };
}

/** The storable fields of a record, without id, version and timestamps. */
export function bodyOf<R extends Meta>(record: R): Omit<R, keyof Meta> {
  const { id: _id, version: _version, created_at: _created, updated_at: _updated, ...body } = record;
  return body;
}

export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) throw new AppError('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
  return principal;
}

import path from 'node:path';
import Database from 'better-sqlite3';
import type { ClickRecord } from '../../src/domain/click.js';
import { clickFromRow, type ClickRow } from '../../src/store/sql/click-row.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';

/** What a visitor's browser got back from one click, read without following any redirect. */
export interface ClickAnswer {
  status: number;
  headers: Headers;
  location: string | null;
  body: string;
}

/** `GET /sl/:token` with the given query (values are URL-encoded here), never following redirects. */
export async function clickOn(
  baseUrl: string,
  token: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<ClickAnswer> {
  const search = new URLSearchParams(query).toString();
  const res = await fetch(`${baseUrl}/sl/${token}${search ? `?${search}` : ''}`, { redirect: 'manual', headers });
  return { status: res.status, headers: res.headers, location: res.headers.get('location'), body: await res.text() };
}

/** The transaction id a destination carries in its query parameter `param` (from `{transaction_id}`). */
export function transactionIdIn(location: string | null, param = 'tid'): string {
  if (location === null) throw new Error('the answer has no Location header');
  const id = new URL(location).searchParams.get(param);
  if (id === null) throw new Error(`no ${param} in ${location}`);
  return id;
}

/** The target of a meta refresh page, HTML entities of attribute values decoded. */
export function metaRefreshTarget(html: string): string | null {
  const raw = /<meta http-equiv="refresh" content="0;url=([^"]*)">/i.exec(html)?.[1];
  if (raw === undefined) return null;
  return raw.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] ?? '');
}

/**
 * Runs `fn` with a read-only connection to the server's SQLite file. WAL mode lets it read
 * alongside the running writer, so tests can count stored clicks, including ones without an id
 * in their answer (blank pages, 404s that must store nothing).
 */
export function withClicksDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function countStoredClicks(dataDir: string): number {
  return withClicksDb(dataDir, (db) => (db.prepare('select count(*) as n from clicks').get() as { n: number }).n);
}

/** Stored clicks whose `column` equals `value` (e.g. a unique sub3 marker sent with the click). */
export function storedClicksWhere(dataDir: string, column: 'sub1' | 'sub2' | 'sub3' | 'sub4' | 'sub5' | 'source_id' | 'tracking_token', value: string): ClickRecord[] {
  return withClicksDb(dataDir, (db) =>
    (db.prepare(`select * from clicks where ${column} = ?`).all(value) as ClickRow[]).map(clickFromRow),
  );
}

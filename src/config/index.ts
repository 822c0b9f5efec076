import { isIPv4, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isCidr } from '../domain/formats.js';

/** Every setting Switchyard reads from the environment, with its default. */
const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  SWITCHYARD_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16 })),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#\\s]+/?$', hint: 'must be an http:// or https:// origin without a path, e.g. https://t.example' })),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 100 * 1024 * 1024, default: 1024 * 1024 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  SQLITE_SYNCHRONOUS: Type.Union([Type.Literal('full'), Type.Literal('normal')], { default: 'full' }),
  CLICK_BATCH_MAX: Type.Integer({ minimum: 1, maximum: 10_000, default: 512 }),
  CLICK_BATCH_WAIT_MS: Type.Integer({ minimum: 0, maximum: 50, default: 0 }),
  GEOIP_DB: Type.Optional(Type.String({ minLength: 1 })),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  API_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 6000 }),
  POSTBACK_CONCURRENCY: Type.Integer({ minimum: 0, maximum: 256, default: 8 }),
  POSTBACK_ALLOW_LOOPBACK: Type.Boolean({ default: false }),
  KPI_SCHEDULER_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000 }),
  HEAP_GROWING_PERCENT: Type.Integer({ minimum: 0, maximum: 1000, default: 100 }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, pattern: '^[\\x21-\\x7e]+$', hint: 'must be 16 or more printable ASCII characters without spaces (it is sent as "Authorization: Bearer <token>")' })),
});
type RawConfig = Static<typeof ConfigSchema>;

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly adminKey: string | undefined;
  /**
   * Base URL used for tracking links when a smart link has no tracking domain; unset, it is
   * `http://localhost:<the port the server listens on>` (see `publicUrlFor`), known only once it
   * listens when PORT is 0.
   */
  readonly publicUrl: string | undefined;
  readonly logLevel: RawConfig['LOG_LEVEL'];
  readonly bodyLimitBytes: number;
  /**
   * Longest a client may take to send a whole request, headers and body. Fastify's default is no
   * limit at all, which lets a client that trickles a body hold a connection (and its buffer) for
   * as long as it likes; enough such clients exhaust the process's sockets.
   */
  readonly requestTimeoutMs: number;
  readonly sqliteSynchronous: RawConfig['SQLITE_SYNCHRONOUS'];
  /** Most clicks committed in one transaction. */
  readonly clickBatchMax: number;
  /**
   * How long a click waits for others to share its commit. 0 still batches: every click arriving
   * while a commit runs joins the next one.
   */
  readonly clickBatchWaitMs: number;
  readonly geoipDb: string | undefined;
  readonly trustProxy: string | undefined;
  /** Management API requests one client address may make per minute before 429. */
  readonly apiRateLimitPerMinute: number;
  /** Partner postbacks sent at once by this process; 0 means this process sends none. */
  readonly postbackConcurrency: number;
  /**
   * TEST ONLY: lets partner postbacks reach loopback addresses (a receiver on 127.0.0.1). Never set
   * it in production: it opens the server's own loopback services to whoever controls a postback URL.
   */
  readonly postbackAllowLoopback: boolean;
  /** How often the KPI scheduler looks for due runs and for models stored by another process. */
  readonly kpiSchedulerIntervalMs: number;
  /**
   * How far V8 lets the heap grow past the live data before a full collection, in percent; 0 keeps
   * V8's adaptive factor. Under sustained clicks the adaptive factor lets garbage pile up to about
   * three times the live heap before collecting, so resident memory swings by ~100 MB with the
   * moment it is read. Each full collection ends in a pause of a few milliseconds that every
   * in-flight click waits out, so a tight limit lengthens the latency tail: with 1,000 links loaded,
   * 30 % held memory at ~215 MB with a click p99 of 13 ms, 100 % at 230–255 MB with 10–11 ms
   * (bench/redirect, 64 connections).
   */
  readonly heapGrowingPercent: number;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>` (the tracking host is public). */
  readonly metricsToken: string | undefined;
}

export class ConfigError extends Error {}

/** The tracking-link base: PUBLIC_URL, or this server at `address`, where it listens (PORT=0 picks the port at start). */
export function publicUrlFor(config: Config, address: AddressInfo | string | null): string {
  return config.publicUrl ?? `http://localhost:${typeof address === 'object' && address !== null ? address.port : config.port}`;
}

/**
 * Environment text as the schema's type, strictly. TypeBox's Convert read `6e3` as 6, `8080.5` as
 * 8080 and `true` as 1: a rate limit of 6 a minute, silently. What is not plainly a whole number
 * (or a boolean word) stays text, and the schema refuses it by name.
 */
function fromEnvironment(schema: TSchema, text: string): unknown {
  const value = text.trim().toLowerCase();
  if (schema.type === 'integer') return /^[-+]?\d+$/.test(value) ? Number(value) : text;
  if (schema.type === 'boolean') return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : text;
  return text;
}

/** Names Fastify's trust-proxy setting accepts besides addresses and CIDR ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IPv4 network written with a netmask (`10.0.0.0/255.0.0.0`), which Fastify also takes. */
function isNetmaskRange(entry: string): boolean {
  const [address, mask, ...rest] = entry.split('/');
  return rest.length === 0 && address !== undefined && mask !== undefined && isIPv4(address) && isIPv4(mask);
}

/** TRUST_PROXY entries that are neither an address, a range nor a range name (Fastify threw on them at start). */
function badProxyEntries(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((entry) => entry.trim()).filter((entry) => !isCidr(entry) && !isNetmaskRange(entry) && !PROXY_RANGE_NAMES.has(entry));
}

/**
 * What an operator can act on, for the schema messages that say nothing useful on their own: a union
 * of words ("Expected union value") lists the words, a pattern says what it wants through its `hint`.
 */
function explainError(name: string, message: string): string {
  const schema = (ConfigSchema.properties as Record<string, TSchema>)[name];
  if (typeof schema?.hint === 'string') return schema.hint;
  const words = (schema?.anyOf as TSchema[] | undefined)?.map((s) => s.const as unknown);
  if (words !== undefined && words.every((w) => typeof w === 'string')) return `must be one of ${words.join(', ')}`;
  return message;
}

/**
 * PUBLIC_URL as an origin (`https://t.example`, a default port dropped); undefined when unset or
 * already refused by the schema, null when the URL parser finds no origin with a host in it.
 */
function originOf(converted: Record<string, unknown>): string | null | undefined {
  const text = converted.PUBLIC_URL;
  if (typeof text !== 'string' || !Value.Check(ConfigSchema.properties.PUBLIC_URL, text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const plain = url.hostname !== '' && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
  return plain && !text.includes('\\') && !text.includes('@') ? url.origin : null;
}

/** Parses the environment once into a frozen, typed configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = fromEnvironment(schema, value);
  }
  const converted = Value.Default(ConfigSchema, picked);
  const lines = [...Value.Errors(ConfigSchema, converted)].map((p) => `${p.path.slice(1) || '(root)'}: ${explainError(p.path.slice(1), p.message)}`);
  const proxies = badProxyEntries(env.TRUST_PROXY || undefined);
  if (proxies.length > 0) lines.push(`TRUST_PROXY: ${proxies.map((p) => JSON.stringify(p)).join(', ')} is not an address, a CIDR range or loopback/linklocal/uniquelocal`);
  // The pattern lets through what is no origin at all (a port past 65535, user info, a backslash
  // that browsers read as a path): every tracking link minted would be unusable, found out only
  // once partners' traffic is lost. The URL parser decides; its origin is what links are built on.
  const publicUrl = originOf(converted as Record<string, unknown>);
  if (publicUrl === null) lines.push(`PUBLIC_URL: ${String(ConfigSchema.properties.PUBLIC_URL.hint)}`);
  // A Bearer header cannot carry a space or a line break (a mounted secret's trailing newline): such
  // a key would lock the admin out, and none would be generated because one is configured.
  const adminKey = env.SWITCHYARD_ADMIN_KEY;
  if (adminKey && !/^[\x21-\x7e]*$/.test(adminKey)) lines.push('SWITCHYARD_ADMIN_KEY: must be printable ASCII without spaces or line breaks (it is sent as "Authorization: Bearer <key>")');
  if (lines.length > 0) throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  const raw = converted as RawConfig;
  const port = raw.PORT;
  return Object.freeze({
    port,
    host: raw.HOST,
    dataDir: path.resolve(raw.DATA_DIR),
    adminKey: raw.SWITCHYARD_ADMIN_KEY,
    publicUrl: publicUrl ?? undefined,
    logLevel: raw.LOG_LEVEL,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
    sqliteSynchronous: raw.SQLITE_SYNCHRONOUS,
    clickBatchMax: raw.CLICK_BATCH_MAX,
    clickBatchWaitMs: raw.CLICK_BATCH_WAIT_MS,
    geoipDb: raw.GEOIP_DB,
    trustProxy: raw.TRUST_PROXY,
    apiRateLimitPerMinute: raw.API_RATE_LIMIT_PER_MINUTE,
    postbackConcurrency: raw.POSTBACK_CONCURRENCY,
    postbackAllowLoopback: raw.POSTBACK_ALLOW_LOOPBACK,
    kpiSchedulerIntervalMs: raw.KPI_SCHEDULER_INTERVAL_MS,
    heapGrowingPercent: raw.HEAP_GROWING_PERCENT,
    metricsToken: raw.METRICS_TOKEN,
  });
}

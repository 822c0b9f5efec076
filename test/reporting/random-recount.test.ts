import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/api-server.js';
import { startServer } from '../support/api-server.js';
import { clickOn, transactionIdIn, withClicksDb } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { localDay, localHour, parseCsv } from './expected.js';

/**
 * SPEC §11 "Figures are exact": random clicks and conversions at random times over six weeks that hold
 * the DST changes of New York, London and the southern hemisphere (Lord Howe's half-hour one included),
 * then every dimension, some pairs and random filters, in many zones and random ranges, against a count
 * the test makes itself: which clicks it sent (each marked in sub5), at what time, and what each
 * postback answered.
 */

let seed = 20260307;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const UAS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
];
const IPS = ['8.8.8.8', '81.2.69.142', '1.1.1.1', '203.0.113.9', '5.9.0.1', '133.242.0.1', '10.1.2.3'];
const SUBS = ['a', 'b', '=1+1', 'x,"y"', 'line\nbreak', 'Ünï', '-5', ''];
const ZONES = [
  'UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu',
  'America/St_Johns', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Australia/Adelaide',
];

interface SentClick { marker: string; time: string; tid: string | null }
interface SentConversion { tid: string; time: string; status: string; event: boolean }
type Row = Record<string, unknown>;

let server: TestServer;
const sent: SentClick[] = [];
const conversions: SentConversion[] = [];
let partnerKey = '';
let partnerId = 0;
let linkIds: number[] = [];

beforeAll(async () => {
  const clock = testClock('2026-03-01T00:00:00.000Z');
  server = await startServer({ now: clock.now, env: { TRUST_PROXY: 'loopback' } });
  const adv1 = await create(server, '/api/v1/advertisers', { name: 'Adv one' });
  const adv2 = await create(server, '/api/v1/advertisers', { name: 'Adv two' });
  const partners = [];
  for (const name of ['P1', 'P2', 'P3']) partners.push((await create(server, '/api/v1/partners', { name })).id);
  partnerId = partners[1] as number;
  partnerKey = (await server.call('POST', `/api/v1/partners/${partnerId}/api-keys`)).body.key;
  const offer = (advertiser: number, name: string, extra: object = {}) => create(server, '/api/v1/offers', {
    advertiser_id: advertiser, name, destination_url: 'https://shop.example/?tid={transaction_id}', ...extra,
  });
  const a = await offer(adv1.id, 'A', { payout: { type: 'fixed', value: 1.5 }, revenue: { type: 'percent', value: 12.5 }, duplicate_filter: { enabled: false, identifier: 'ip_user_agent', window_hours: 48 } });
  const b = await offer(adv1.id, 'B', {
    payout: { type: 'percent', value: 7 }, revenue: { type: 'fixed', value: 3.3333 }, attribution_window_days: 1,
    ruleset: { rules: [{ dimension: 'os', op: 'include', values: ['iOS', 'Android'] }] },
  });
  const c = await offer(adv2.id, 'C', {
    payout: { type: 'fixed', value: 0.1 }, revenue: { type: 'fixed', value: 0.3 },
    caps: [{ metric: 'conversions', period: 'daily', limit: 3, mode: 'hard' }],
    duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 1, action: 'block' },
  });
  const d = await offer(adv2.id, 'D catch-all', { payout: { type: 'fixed', value: 0.5 }, revenue: { type: 'fixed', value: 1 }, duplicate_filter: { enabled: false, identifier: 'ip', window_hours: 24 } });
  const e = await offer(adv2.id, 'E paused', { status: 'paused' });
  const cUrl = await create(server, `/api/v1/offers/${c.id}/urls`, { name: 'C creative', destination_url: 'https://shop.example/c?tid={transaction_id}' });
  const link = (name: string, body: object) => create(server, '/api/v1/smart-links', { name, visible_to_partners: true, ...body });
  const l1 = await link('L1 weight', { routing: 'weight', entries: [
    { offer_id: a.id, routing_value: 50 }, { offer_id: c.id, offer_url_id: cUrl.id, routing_value: 30 },
    { offer_id: c.id, routing_value: 20 }, { offer_id: b.id, routing_value: 10 },
  ] });
  const l2 = await link('L2 priority', { entries: [{ offer_id: b.id, routing_value: 2 }, { offer_id: e.id, routing_value: 1 }], catch_all_offer_id: d.id });
  const l3 = await link('L3 no match', { entries: [{ offer_id: e.id }] });
  const l4 = await link('L4 paused', { status: 'paused', entries: [{ offer_id: a.id }] });
  linkIds = [l1.id, l2.id, l3.id, l4.id];
  const tokens: string[] = [];
  for (const l of linkIds) for (const p of partners) {
    tokens.push((await server.call('POST', `/api/v1/smart-links/${l}/tracking-links`, { partner_id: p })).body.token);
  }
  // Clicks and postbacks as one timeline, in time order.
  const start = Date.parse('2026-03-01T00:00:00Z');
  const span = 42 * 86_400_000;
  type Event = { at: number; run: () => Promise<void> };
  const events: Event[] = [];
  const N = 500;
  for (let i = 0; i < N; i++) {
    // Some clicks bunched around DST changes and local midnights, most uniform.
    const at = rand() < 0.3
      ? Date.parse(pick(['2026-03-08T06:00:00Z', '2026-03-29T00:30:00Z', '2026-04-04T14:30:00Z', '2026-04-04T12:00:00Z', '2026-03-07T18:00:00Z'])) + Math.floor(rand() * 4 * 3_600_000)
      : start + Math.floor(rand() * span);
    const marker = `m${i}`;
    const query: Record<string, string> = { sub5: marker };
    for (const s of ['sub1', 'sub2', 'sub3', 'sub4', 'source_id']) {
      const v = pick(SUBS);
      if (v !== '') query[s] = v;
    }
    const token = pick(tokens);
    const headers = { 'user-agent': pick(UAS), 'x-forwarded-for': pick(IPS) };
    events.push({
      at,
      run: async () => {
        const answer = await clickOn(server.url, token, query, headers);
        const tid = answer.location?.includes('tid=') ? transactionIdIn(answer.location) : null;
        sent.push({ marker, time: new Date(clock.now()).toISOString(), tid });
        const clickAt = clock.now();
        if (tid === null || rand() > 0.5) return;
        // Conversions later: 0 to 3 days, sometimes several, sometimes an event or a replay.
        const n = 1 + Math.floor(rand() * 3);
        for (let j = 0; j < n; j++) {
          const later = clickAt + Math.floor(rand() * 3 * 86_400_000);
          const event = rand() < 0.3;
          const params: Record<string, string> = { transaction_id: tid, amount: `${Math.floor(rand() * 10000) / 100}` };
          if (event) params.event_id = pick(['deposit', 'reg']);
          if (rand() < 0.3) params.order_id = pick(['o1', 'o2']);
          events.push({
            at: later,
            run: async () => {
              const res = await postback(server, params);
              expect(res.status, JSON.stringify(res.body)).toBe(200);
              conversions.push({ tid, time: new Date(clock.now()).toISOString(), status: res.body.status, event });
            },
          });
        }
      },
    });
  }
  // Run in time order; postbacks are added while clicks run, so keep taking the earliest.
  // Several clicks at once, so a batch holds many keys (the writer stages and merges sums per batch).
  const CONC = 8;
  while (events.length > 0) {
    events.sort((x, y) => x.at - y.at);
    // A group shares the first one's time, so the server writes them together (one batch).
    const group = events.splice(0, CONC);
    const at = (group[0] as Event).at;
    for (const e of group) e.at = at;
    clock.set(new Date(at).toISOString());
    await Promise.all(group.map((e) => e.run()));
  }
  clock.set('2026-04-20T12:00:00Z');
}, 120_000);
afterAll(async () => server?.close());

interface Stored { [k: string]: unknown; time: string; sub5: string; transaction_id: string; partner_id: number; smart_link_id: number; skipped: string }

function model() {
  const rows = withClicksDb(server.dataDir, (db) => db.prepare('select * from clicks').all()) as Stored[];
  const convRows = withClicksDb(server.dataDir, (db) => db.prepare('select transaction_id, time, status, event_key, payout_micros, revenue_micros from conversions').all()) as Row[];
  const byMarker = new Map(rows.map((r) => [r.sub5, r]));
  expect(rows.length).toBe(sent.length);
  const clicks = sent.map((s) => {
    const r = byMarker.get(s.marker);
    if (!r) throw new Error(`click ${s.marker} not stored`);
    expect(r.time).toBe(s.time);
    return r;
  });
  const byTid = new Map(clicks.map((c) => [c.transaction_id, c]));
  // Money from the stored conversions, matched one to one against the answers the postbacks got.
  const counted = conversions.filter((c) => c.status === 'approved' || c.status === 'pending');
  const stored = convRows.filter((c) => c.status === 'approved' || c.status === 'pending');
  expect(stored.length).toBe(counted.length);
  const convs = stored.map((v) => ({ click: byTid.get(String(v.transaction_id)) as Stored, time: String(v.time), event: v.event_key !== '', revenue: Number(v.revenue_micros), payout: Number(v.payout_micros) }));
  expect(convs.filter((c) => c.event).length).toBe(counted.filter((c) => c.event).length);
  return { clicks, convs };
}

const ENTITY = ['smart_link', 'entry', 'offer', 'offer_url', 'partner', 'advertiser'];
const DIMS = ['day', 'hour', ...ENTITY, 'country', 'device_type', 'os', 'browser', 'sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'source_id', 'outcome', 'reason'];
const keyName = (d: string) => (ENTITY.includes(d) ? `${d}_id` : d);
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

function expected(m: ReturnType<typeof model>, groupBy: string[], zone: string, fromMs: number, toMs: number, filters: Record<string, unknown>, partner?: number) {
  const groups = new Map<string, { keys: Row; s: number[] }>();
  const add = (click: Stored, time: string, s: number[]) => {
    const ms = Date.parse(time);
    if (ms < fromMs || ms >= toMs) return;
    if (partner !== undefined && click.partner_id !== partner) return;
    for (const [d, v] of Object.entries(filters)) if (click[keyName(d)] !== v) return;
    const keys: Row = {};
    for (const d of groupBy) keys[keyName(d)] = d === 'day' ? localDay(time, zone) : d === 'hour' ? localHour(time, zone) : (click[keyName(d)] ?? null);
    const id = JSON.stringify(keys);
    const g = groups.get(id) ?? { keys, s: [0, 0, 0, 0, 0, 0, 0, 0] };
    s.forEach((v, i) => (g.s[i] = (g.s[i] ?? 0) + v));
    groups.set(id, g);
  };
  for (const c of m.clicks) {
    const u = Number(c.is_unique);
    add(c, c.time, [1, u, 1 - u, c.outcome === 'invalid' || c.outcome === 'no_match' ? 1 : 0, 0, 0, 0, 0]);
  }
  for (const v of m.convs) add(v.click, v.time, [0, 0, 0, 0, v.event ? 0 : 1, v.event ? 1 : 0, v.revenue, v.payout]);
  const cols = (s: number[]): Row => {
    const [clicks = 0, u = 0, dup = 0, inv = 0, conv = 0, ev = 0, rev = 0, pay = 0] = s;
    const per = (x: number) => (clicks === 0 ? 0 : r6(x / clicks));
    const all: Row = { clicks, unique_clicks: u, duplicate_clicks: dup, invalid_clicks: inv, conversions: conv, events: ev, cvr: per(conv), evr: per(ev), revenue: rev / 1e6, payout: pay / 1e6, profit: (rev - pay) / 1e6, epc: per(pay / 1e6), rpc: per(rev / 1e6) };
    if (partner !== undefined) for (const k of ['revenue', 'profit', 'rpc']) delete all[k];
    return all;
  };
  const total = [0, 0, 0, 0, 0, 0, 0, 0];
  const rows = [...groups.values()].map((g) => {
    g.s.forEach((v, i) => (total[i] = (total[i] ?? 0) + v));
    return { ...g.keys, ...cols(g.s) };
  });
  return { rows, totals: cols(total) };
}

const strip = (row: Row) => Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_name')));
const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();

/** Start of local day `date` in `zone`, found by scanning minutes (independent of the server's arithmetic). */
function localMidnight(date: string, zone: string): number {
  let ms = Date.parse(`${date}T00:00:00Z`) - 15 * 3_600_000;
  while (localDay(new Date(ms).toISOString(), zone) < date) ms += 60_000;
  return ms;
}
const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe('reports equal a brute-force recount of random traffic', () => {
  it('every dimension, pairs and filters, in many zones and random ranges', async () => {
    const m = model();
    const failures: string[] = [];
    let checked = 0;
    for (const zone of ZONES) {
      const every = ['UTC', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham'].includes(zone);
      const groupings: string[][] = every ? [[], ...DIMS.map((d) => [d])] : [['day'], ['hour']];
      for (let i = 0; i < 5; i++) groupings.push([pick(DIMS), pick(DIMS)].filter((d, j, xs) => xs.indexOf(d) === j));
      for (const groupBy of groupings) {
        const fromDate = addDays('2026-03-01', Math.floor(rand() * 40));
        const toDate = addDays(fromDate, Math.floor(rand() * 12));
        const filters: Record<string, unknown> = {};
        if (rand() < 0.4) {
          const sample = pick(m.clicks);
          const d = pick(['smart_link', 'offer', 'partner', 'country', 'os', 'sub1', 'outcome', 'reason', 'entry', 'device_type', 'browser', 'advertiser']);
          const v = sample[keyName(d)];
          if (v !== null && v !== '' && v !== undefined) filters[d] = v;
        }
        const q = new URLSearchParams({ from: fromDate, to: toDate, timezone: zone, group_by: groupBy.join(','), page_size: '10000' });
        for (const [d, v] of Object.entries(filters)) q.set(`filter[${d}]`, String(v));
        const res = await server.call('GET', `/api/v1/reports?${q}`);
        checked++;
        if (res.status !== 200) {
          failures.push(`${q}: ${res.status} ${JSON.stringify(res.body)}`);
          continue;
        }
        const want = expected(m, groupBy, zone, localMidnight(fromDate, zone), localMidnight(addDays(toDate, 1), zone), filters);
        const got = sorted(res.body.rows.map(strip));
        const exp = sorted(want.rows);
        if (JSON.stringify(got) !== JSON.stringify(exp) || JSON.stringify(res.body.totals) !== JSON.stringify(want.totals)) {
          const extra = got.filter((g) => !exp.includes(g)).slice(0, 3);
          const missing = exp.filter((g) => !got.includes(g)).slice(0, 3);
          failures.push(`${decodeURIComponent(q.toString())}\n  got-only ${extra.join('\n   ')}\n  want-only ${missing.join('\n   ')}\n  totals ${JSON.stringify(res.body.totals)} vs ${JSON.stringify(want.totals)}`);
        }
      }
    }
    expect(failures.slice(0, 8).join('\n\n')).toBe('');
    expect(checked).toBeGreaterThan(120);
  }, 120_000);

  it('date-time ranges on quarter hours with offsets', async () => {
    const m = model();
    const failures: string[] = [];
    for (let i = 0; i < 60; i++) {
      const zone = pick(ZONES);
      const from = Date.parse('2026-03-01T00:00:00Z') + Math.floor(rand() * 40 * 96) * 900_000;
      const to = from + (1 + Math.floor(rand() * 300)) * 900_000;
      const offset = pick(['+00:00', '+05:45', '-03:30', '+13:45']);
      const fmt = (ms: number) => {
        const sign = offset[0] === '-' ? -1 : 1;
        const mins = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4)));
        return new Date(ms + mins * 60_000).toISOString().slice(0, 19) + offset;
      };
      const groupBy = [pick(['day', 'hour', 'offer', 'sub1'])];
      const q = new URLSearchParams({ from: fmt(from), to: fmt(to), timezone: zone, group_by: groupBy.join(','), page_size: '10000' });
      const res = await server.call('GET', `/api/v1/reports?${q}`);
      if (res.status !== 200) {
        failures.push(`${q}: ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      const want = expected(m, groupBy, zone, from, to, {});
      if (JSON.stringify(sorted(res.body.rows.map(strip))) !== JSON.stringify(sorted(want.rows))) failures.push(`${decodeURIComponent(q.toString())}`);
    }
    expect(failures.slice(0, 8).join('\n')).toBe('');
  }, 60_000);

  it('a partner key sees exactly its own traffic', async () => {
    const m = model();
    const failures: string[] = [];
    for (const zone of ZONES.slice(0, 6)) {
      for (const groupBy of [['day'], ['hour', 'smart_link'], ['country', 'os'], ['sub1', 'outcome']]) {
        const q = new URLSearchParams({ from: '2026-03-01', to: '2026-04-15', timezone: zone, group_by: groupBy.join(','), page_size: '10000' });
        const res = await server.call('GET', `/api/v1/reports?${q}`, undefined, { key: partnerKey });
        const want = expected(m, groupBy, zone, localMidnight('2026-03-01', zone), localMidnight('2026-04-16', zone), {}, partnerId);
        if (JSON.stringify(sorted(res.body.rows.map(strip))) !== JSON.stringify(sorted(want.rows)) || JSON.stringify(res.body.totals) !== JSON.stringify(want.totals)) {
          failures.push(`${decodeURIComponent(q.toString())}`);
        }
      }
    }
    expect(failures.join('\n')).toBe('');
  });

  it('smart-link reports: entries, outcomes and skip reasons', async () => {
    const m = model();
    const failures: string[] = [];
    for (const zone of ZONES) {
      for (const linkId of linkIds) {
        const fromDate = addDays('2026-03-01', Math.floor(rand() * 30));
        const toDate = addDays(fromDate, Math.floor(rand() * 14));
        const fromMs = localMidnight(fromDate, zone);
        const toMs = localMidnight(addDays(toDate, 1), zone);
        const res = await server.call('GET', `/api/v1/smart-links/${linkId}/report?from=${fromDate}&to=${toDate}&timezone=${encodeURIComponent(zone)}`);
        if (res.status !== 200) {
          failures.push(`${linkId} ${zone}: ${res.status}`);
          continue;
        }
        const inRange = (t: string) => Date.parse(t) >= fromMs && Date.parse(t) < toMs;
        const mine = m.clicks.filter((c) => c.smart_link_id === linkId && inRange(c.time));
        const outcomes: Record<string, number> = { routed: 0, catch_all: 0, fail_traffic: 0, no_match: 0, invalid: 0 };
        for (const c of mine) outcomes[String(c.outcome)] = (outcomes[String(c.outcome)] ?? 0) + 1;
        const skips: Record<string, number> = {};
        for (const c of mine) for (const s of JSON.parse(c.skipped)) skips[`${s.entry_id}:${s.reason}`] = (skips[`${s.entry_id}:${s.reason}`] ?? 0) + 1;
        const gotSkips = Object.fromEntries(res.body.skip_reasons.map((s: Row) => [`${s.entry_id}:${s.reason}`, s.count]));
        const want = expected(m, ['entry', 'offer'], zone, fromMs, toMs, { smart_link: linkId });
        const entryRows = want.rows.filter((r) => r.entry_id !== null).map((r) => [r.entry_id, r.offer_id, r.clicks, r.unique_clicks, r.conversions, r.revenue, r.payout]);
        const gotRows = res.body.entries.map((r: Row) => [r.entry_id, r.offer_id, r.clicks, r.unique_clicks, r.conversions, r.revenue, r.payout]);
        const problems = [
          JSON.stringify(res.body.outcomes) !== JSON.stringify(outcomes) ? `outcomes ${JSON.stringify(res.body.outcomes)} vs ${JSON.stringify(outcomes)}` : '',
          JSON.stringify(Object.entries(gotSkips).sort()) !== JSON.stringify(Object.entries(skips).sort()) ? `skips ${JSON.stringify(gotSkips)} vs ${JSON.stringify(skips)}` : '',
          JSON.stringify(sorted(gotRows)) !== JSON.stringify(sorted(entryRows)) ? `entries ${JSON.stringify(gotRows)} vs ${JSON.stringify(entryRows)}` : '',
          res.body.totals.clicks !== want.totals.clicks || res.body.totals.payout !== want.totals.payout || res.body.totals.revenue !== want.totals.revenue ? `totals ${JSON.stringify(res.body.totals)} vs ${JSON.stringify(want.totals)}` : '',
        ].filter(Boolean);
        if (problems.length > 0) failures.push(`link ${linkId} ${zone} ${fromDate}..${toDate}: ${problems.join('; ')}`);
      }
    }
    expect(failures.slice(0, 6).join('\n')).toBe('');
  });

  it('CSV carries the JSON rows cell for cell, quoted and neutralised', async () => {
    for (const groupBy of [['sub1', 'sub2'], ['source_id', 'hour'], ['offer', 'partner', 'country']]) {
      const q = `from=2026-03-01&to=2026-04-15&timezone=Australia/Lord_Howe&group_by=${groupBy.join(',')}&page_size=10000`;
      const json = await server.call('GET', `/api/v1/reports?${q}`);
      const csv = await server.call('GET', `/api/v1/reports?${q}&format=csv`);
      const [header, ...lines] = parseCsv(String(csv.body));
      expect(header).toEqual(Object.keys(json.body.rows[0]));
      const neutral = (v: unknown) => (v === null ? '' : typeof v === 'string' && /^[=+\-@\t\r\n]/.test(v) ? `'${v}` : String(v));
      expect(lines).toEqual(json.body.rows.map((r: Row) => Object.values(r).map(neutral)));
    }
  });
});

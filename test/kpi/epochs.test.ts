import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { create } from '../support/fixtures.js';
import { kpiNetwork, type KpiNetwork } from './network.js';

/**
 * KPI epochs (SPEC §5): which smart-link edits start a new epoch (and so discard the model and
 * restart collection), which do not, and the manual reset endpoint — all over real HTTP.
 */

const clock = testClock('2030-03-04T10:15:00.000Z');
let server: TestServer;
let net: KpiNetwork;

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { SQLITE_SYNCHRONOUS: 'normal' } });
  net = await kpiNetwork(server);
});
afterAll(async () => server?.close());

const KPI = { metric: 'cvr', algorithm: 'ranking', run_frequency_hours: 1, lookback_hours: 12, collection_threshold: 0 };

async function kpiLink(body: Record<string, unknown> = {}) {
  return create(server, '/api/v1/smart-links', {
    name: 'KPI link',
    routing: 'kpi',
    kpi: KPI,
    entries: [{ offer_id: net.offers.a, routing_value: 1 }, { offer_id: net.offers.b, routing_value: 1 }],
    ...body,
  });
}

const state = async (id: number) => {
  const res = await server.call('GET', `/api/v1/smart-links/${id}/kpi`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const resets = async (id: number) => {
  const res = await server.call('GET', `/api/v1/smart-links/${id}/kpi/runs?page_size=500`);
  expect(res.status).toBe(200);
  return res.body.data.filter((line: { kind: string }) => line.kind === 'reset').map((line: { epoch: number; reset_reason: string }) => [line.epoch, line.reset_reason]);
};
const patch = async (id: number, body: unknown) => {
  const res = await server.call('PATCH', `/api/v1/smart-links/${id}`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const entriesOf = (link: { entries: Record<string, unknown>[] }) =>
  link.entries.map(({ id, offer_id, offer_url_id, routing_value, ruleset }) => ({ id, offer_id, offer_url_id, routing_value, ruleset }));

/** Gives the link a model: one click, then a run for the next slot. */
async function optimise(linkId: number): Promise<number> {
  const minted = await server.call('POST', `/api/v1/smart-links/${linkId}/tracking-links`, { partner_id: net.partnerId });
  expect((await clickOn(server.url, minted.body.token)).status).toBe(302);
  clock.advance(3_600_000);
  const tick = await server.kpiScheduler.tick();
  const run = tick.runs.find((r) => r.smart_link_id === linkId);
  expect(run?.phase).toBe('optimising');
  const after = await state(linkId);
  expect(after.phase).toBe('optimising');
  expect(after.model).not.toBeNull();
  return run?.id ?? 0;
}

describe('KPI epochs', () => {
  it('a new KPI link starts epoch 1 at its creation, collecting, with a reset line saying why', async () => {
    const link = await kpiLink();
    const s = await state(link.id);
    expect(s).toMatchObject({
      smart_link_id: link.id, epoch: 1, epoch_started_at: new Date(clock.now()).toISOString(), phase: 'collecting',
      clicks_in_epoch: 0, model: null, model_run_id: null, last_run_at: null,
    });
    expect(s.settings).toEqual({ ...KPI, goal: null });
    expect(await resets(link.id)).toEqual([[1, 'created']]);
  });

  it('editing weights, rulesets, lookback, frequency, threshold, status or name keeps the epoch and its model', async () => {
    const link = await kpiLink();
    const runId = await optimise(link.id);
    const entries = entriesOf(link);
    await patch(link.id, { entries: entries.map((e, i) => ({ ...e, routing_value: 5 + i })) });
    await patch(link.id, { entries: entries.map((e) => ({ ...e, ruleset: { rules: [{ dimension: 'country', op: 'exclude', values: ['FR'] }] } })) });
    await patch(link.id, { kpi: { ...KPI, lookback_hours: 48, run_frequency_hours: 6, collection_threshold: 50 } });
    await patch(link.id, { name: 'renamed', status: 'paused' });
    await patch(link.id, { status: 'active' });
    // A goal of 0 is no goal, so it changes nothing.
    await patch(link.id, { kpi: { ...KPI, lookback_hours: 48, run_frequency_hours: 6, collection_threshold: 50, goal: 0 } });
    const s = await state(link.id);
    expect(s).toMatchObject({ epoch: 1, phase: 'optimising', model_run_id: runId });
    expect(await resets(link.id)).toEqual([[1, 'created']]);
  });

  it.each([
    ['adding an entry', (e: any[]) => ({ entries: [...e, { offer_id: 0, routing_value: 1 }] }), 'entries_changed'],
    ['removing an entry', (e: any[]) => ({ entries: e.slice(0, 1) }), 'entries_changed'],
    ["changing an entry's offer URL", (e: any[]) => ({ entries: [{ ...e[0], offer_url_id: 0 }, e[1]] }), 'entries_changed'],
    ["changing an entry's offer", (e: any[]) => ({ entries: [e[0], { ...e[1], offer_id: 0 }] }), 'entries_changed'],
    ['sending the same entries without their ids (new entries)', (e: any[]) => ({ entries: e.map(({ id: _id, ...rest }) => rest) }), 'entries_changed'],
    ['changing the metric', () => ({ kpi: { ...KPI, metric: 'epc' } }), 'metric_changed'],
    ['setting a goal', () => ({ kpi: { ...KPI, goal: 2 } }), 'goal_changed'],
  ])('%s starts a new epoch: model discarded, collection restarts, the reset line names the reason', async (_name, edit, reason) => {
    const link = await kpiLink();
    await optimise(link.id);
    // Placeholders resolved here, once the network's ids are known.
    const body = JSON.parse(JSON.stringify(edit(entriesOf(link))).replaceAll('"offer_id":0', `"offer_id":${net.offers.c}`).replace('"offer_url_id":0', `"offer_url_id":${net.offerUrlA}`));
    clock.advance(60_000);
    await patch(link.id, body);
    const s = await state(link.id);
    expect(s).toMatchObject({ epoch: 2, epoch_started_at: new Date(clock.now()).toISOString(), phase: 'collecting', model: null, model_run_id: null, clicks_in_epoch: 0 });
    expect(await resets(link.id)).toEqual([[2, reason], [1, 'created']]);
  });

  it('clicks after a reset are routed by weight again and carry no run id', async () => {
    const link = await kpiLink({ entries: [{ offer_id: net.offers.a, routing_value: 0 }, { offer_id: net.offers.b, routing_value: 1 }] });
    const runId = await optimise(link.id);
    const minted = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: net.partnerId });
    const before = await clickOn(server.url, minted.body.token);
    expect((await server.call('GET', `/api/v1/clicks/${transactionIdIn(before.location)}`)).body.kpi_run_id).toBe(runId);
    expect((await server.call('POST', `/api/v1/smart-links/${link.id}/kpi/reset`)).status).toBe(200);
    const after = await clickOn(server.url, minted.body.token);
    // Weight 0 for A: by weight, every click goes to B.
    expect(new URL(after.location ?? '').host).toBe('b.example');
    expect((await server.call('GET', `/api/v1/clicks/${transactionIdIn(after.location)}`)).body.kpi_run_id).toBeNull();
  });

  it('turning KPI routing on starts a new epoch; turning it off keeps the record but the state is no longer served', async () => {
    const link = await kpiLink({ routing: 'weight' });
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).status).toBe(409);
    expect(await resets(link.id)).toEqual([]);
    await patch(link.id, { routing: 'kpi' });
    expect(await resets(link.id)).toEqual([[1, 'routing_changed']]);
    await patch(link.id, { routing: 'priority' });
    expect(await resets(link.id)).toEqual([[1, 'routing_changed']]);
    await patch(link.id, { routing: 'kpi' });
    expect(await resets(link.id)).toEqual([[2, 'routing_changed'], [1, 'routing_changed']]);
  });
});

describe('KPI links stored before epochs existed', () => {
  it('are collecting in epoch 0 until the scheduler starts their first epoch', async () => {
    const link = await kpiLink();
    // As an upgraded database holds them: a KPI link with no optimisation state at all.
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    try {
      db.prepare('delete from kpi_state where smart_link_id = ?').run(link.id);
      db.prepare('delete from kpi_runs where smart_link_id = ?').run(link.id);
    } finally {
      db.close();
    }
    expect(await state(link.id)).toMatchObject({ epoch: 0, epoch_started_at: null, phase: 'collecting', model: null });
    clock.advance(1000);
    await server.kpiScheduler.tick();
    expect(await state(link.id)).toMatchObject({ epoch: 1, epoch_started_at: new Date(clock.now()).toISOString(), phase: 'collecting' });
    expect(await resets(link.id)).toEqual([[1, 'created']]);
  });
});

describe('KPI settings', () => {
  it.each([
    ['KPI routing without settings', { kpi: null }, 'kpi'],
    ['an unknown metric', { kpi: { ...KPI, metric: 'clicks' } }, 'kpi'],
    ['a run frequency not offered', { kpi: { ...KPI, run_frequency_hours: 2 } }, 'kpi'],
    ['a lookback not offered', { kpi: { ...KPI, lookback_hours: 6 } }, 'kpi'],
    ['a negative threshold', { kpi: { ...KPI, collection_threshold: -1 } }, 'kpi'],
    ['an unknown algorithm', { kpi: { ...KPI, algorithm: 'greedy' } }, 'kpi'],
  ])('%s is refused with validation_failed and stores nothing', async (_name, body, path) => {
    const before = (await server.call('GET', '/api/v1/smart-links?page_size=1')).body.total;
    const res = await server.call('POST', '/api/v1/smart-links', {
      name: 'bad', routing: 'kpi', entries: [{ offer_id: net.offers.a }], ...body,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain(path);
    expect((await server.call('GET', '/api/v1/smart-links?page_size=1')).body.total).toBe(before);
  });
});

describe('KPI money metrics across currencies', () => {
  it('warn when the entries pay in different currencies, which a money metric would compare as one', async () => {
    const euros = await create(server, '/api/v1/advertisers', { name: 'Euro Ltd', default_currency: 'EUR' });
    const euroOffer = await create(server, '/api/v1/offers', { advertiser_id: euros.id, name: 'Euro offer', destination_url: 'https://eu.example/' });
    const entries = [{ offer_id: net.offers.a, routing_value: 1 }, { offer_id: euroOffer.id, routing_value: 1 }];
    const byRevenue = await kpiLink({ kpi: { ...KPI, metric: 'rpc' }, entries });
    expect(byRevenue.warnings).toEqual([expect.stringMatching(/rpc.*EUR.*USD|rpc.*USD.*EUR/)]);
    expect((await server.call('GET', `/api/v1/smart-links/${byRevenue.id}`)).body.warnings).toEqual(byRevenue.warnings);
    // Rates and counts have no currency; one currency throughout is fine.
    expect((await kpiLink({ kpi: { ...KPI, metric: 'cvr' }, entries })).warnings).toEqual([]);
    expect((await kpiLink({ kpi: { ...KPI, metric: 'profit' } })).warnings).toEqual([]);
  });
});

describe('POST /smart-links/:id/kpi/reset', () => {
  it('starts the next epoch by hand and answers the new state', async () => {
    const link = await kpiLink();
    await optimise(link.id);
    clock.advance(90_000);
    const res = await server.call('POST', `/api/v1/smart-links/${link.id}/kpi/reset`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      smart_link_id: link.id, epoch: 2, epoch_started_at: new Date(clock.now()).toISOString(), phase: 'collecting', model: null, clicks_in_epoch: 0,
    });
    expect(await state(link.id)).toMatchObject({ epoch: 2, model: null });
    expect(await resets(link.id)).toEqual([[2, 'manual'], [1, 'created']]);
  });

  it('is 409 conflict for a link that does not route by KPI, 404 for an unknown or deleted link, 403 for a partner key', async () => {
    const weight = await kpiLink({ routing: 'weight', kpi: null });
    const conflict = await server.call('POST', `/api/v1/smart-links/${weight.id}/kpi/reset`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('conflict');
    const unknown = await server.call('POST', '/api/v1/smart-links/999999/kpi/reset');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const deleted = await kpiLink();
    expect((await server.call('DELETE', `/api/v1/smart-links/${deleted.id}`)).status).toBe(204);
    expect((await server.call('POST', `/api/v1/smart-links/${deleted.id}/kpi/reset`)).status).toBe(404);
    const minted = await server.call('POST', `/api/v1/partners/${net.partnerId}/api-keys`);
    const link = await kpiLink();
    for (const [method, path] of [['POST', 'kpi/reset'], ['GET', 'kpi'], ['GET', 'kpi/runs']]) {
      const res = await server.call(method as string, `/api/v1/smart-links/${link.id}/${path}`, undefined, { key: minted.body.key });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(await resets(link.id)).toEqual([[1, 'created']]);
  });
});

describe('OpenAPI', () => {
  it('documents the KPI endpoints from the schemas that validate them', async () => {
    const doc = (await server.call('GET', '/openapi.json')).body;
    expect(doc.paths['/api/v1/smart-links/{id}/kpi']?.get?.responses?.['200']).toBeDefined();
    expect(doc.paths['/api/v1/smart-links/{id}/kpi/reset']?.post?.responses?.['409']).toBeDefined();
    const runs = doc.paths['/api/v1/smart-links/{id}/kpi/runs']?.get;
    expect(runs?.parameters?.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page', 'page_size', 'from', 'to']));
  });

  it('rejects a malformed run-record query with validation_failed', async () => {
    const link = await kpiLink();
    const res = await server.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs?from=yesterday`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});

describe('a model stored by an earlier version', () => {
  /** Puts `model` in force as an earlier version stored it (its JSON in kpi_state). */
  function storeModel(linkId: number, model: unknown): void {
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    try {
      db.prepare('update kpi_state set model = ? where smart_link_id = ?').run(JSON.stringify(model), linkId);
    } finally {
      db.close();
    }
  }

  it('GET /kpi shows it as it routes: evr Beta posteriors as the Gamma of events per click in force, goal 0 as no goal', async () => {
    // Before the Gamma posterior, entry A at 100 % EVR (2,000 events on 2,000 clicks) and B at 50 % were stored as Beta posteriors.
    const evr = await kpiLink({ kpi: { ...KPI, metric: 'evr', algorithm: 'thompson', goal: 100 } });
    const [a, b] = evr.entries.map((e: { id: number }) => e.id);
    storeModel(evr.id, {
      algorithm: 'thompson', metric: 'evr', goal: 100,
      posteriors: [
        { entryId: a, alpha: 32016, beta: 16, valueMean: null, valueSd: null },
        { entryId: b, alpha: 16016, beta: 16016, valueMean: null, valueSd: null },
      ],
    });
    const shown = (await state(evr.id)).model;
    // The API documents evr posteriors as Gamma (shape alpha, rate beta): A must read as about 1 event per click, not 2,001.
    const mean = (p: { alpha: number; beta: number }) => p.alpha / p.beta;
    expect(mean(shown.posteriors[0])).toBeCloseTo(1, 2);
    expect(mean(shown.posteriors[1])).toBeCloseTo(0.5, 2);

    // Before 0 meant no goal, a goal of 0 was stored as it was sent; the link routes to the highest, with no goal.
    const cvr = await kpiLink({ kpi: { ...KPI, algorithm: 'thompson', goal: 0 } });
    storeModel(cvr.id, {
      algorithm: 'thompson', metric: 'cvr', goal: 0,
      posteriors: cvr.entries.map((e: { id: number }) => ({ entryId: e.id, alpha: 2, beta: 100, valueMean: null, valueSd: null })),
    });
    expect((await state(cvr.id)).model).toMatchObject({ algorithm: 'thompson', goal: null });
  });
});

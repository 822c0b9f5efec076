import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRAIN_MS, ROLLUP_CUBES, type RollupDimension, type RollupTable } from '../../src/domain/report.js';
import type { RollupQuery } from '../../src/ports/report-reader.js';
import { localDays, planRollups, type RollupNeeds, type TimeGrouping } from '../../src/reporting/rollup-plan.js';

/**
 * The rollup planner (reporting/rollup-plan.ts): which cube answers which part of a range. The
 * figures themselves are checked against raw records in reports.test.ts; here, that the plan reads
 * the small cubes whenever they can answer, and that its ranges tile the request exactly.
 */

const ms = (iso: string) => Date.parse(iso);
const grainOf = (table: RollupTable) => GRAIN_MS[ROLLUP_CUBES.find((c) => c.table === table)?.grain ?? 'quarter'];
const plan = (from: string, to: string, options: Partial<RollupNeeds> = {}) =>
  planRollups({ range: { fromMs: ms(from), toMs: ms(to) }, timeZone: 'UTC', time: 'none', groupBy: [], filters: [], ...options });
const tables = (queries: RollupQuery[]) => queries.map((q) => q.table);

describe('planRollups', () => {
  it('a 30-day report by offer over whole UTC days reads only the day cube of links', () => {
    const queries = plan('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z', { time: 'day', groupBy: ['offer_id'] });
    expect(queries).toEqual([expect.objectContaining({
      table: 'report_links_day', ranges: [{ fromBucket: '2026-01-01T00:00:00.000Z', toBucket: '2026-01-31T00:00:00.000Z' }],
    })]);
    expect(queries[0]?.periods).toHaveLength(30);
  });

  it('country groupings read the country cube; partner groupings the partner cube', () => {
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z', { groupBy: ['smart_link_id', 'entry_id', 'country'] }))).toEqual(['report_countries_day']);
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', { groupBy: ['partner_id', 'reason'] }))).toEqual(['report_partner_links_day']);
  });

  it("a partner key's forced partner filter never reads a cube without partners", () => {
    const partner = { column: 'partner_id' as const, value: 7 };
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z', { groupBy: ['offer_id'], filters: [partner] }))).toEqual(['report_partner_links_day']);
    // Partner and country together exist only in the quarter-hour cube of every dimension.
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', { groupBy: ['country'], filters: [partner] }))).toEqual(['report_rollups']);
  });

  it('grouping or filtering on a sub id reads the quarter-hour cube of every dimension', () => {
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z', { groupBy: ['sub1'] }))).toEqual(['report_rollups']);
    expect(tables(plan('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z', { groupBy: ['offer_id'], filters: [{ column: 'source_id', value: 'x' }] })))
      .toEqual(['report_rollups']);
  });

  it('in a whole-hour zone the partial UTC days at the edges are read from hour buckets', () => {
    const queries = planRollups({
      range: { fromMs: ms('2026-01-01T05:00:00Z'), toMs: ms('2026-01-03T05:00:00Z') }, timeZone: 'America/New_York', time: 'none', groupBy: ['offer_id'], filters: [],
    });
    expect(queries.map((q) => [q.table, q.ranges.map((r) => `${r.fromBucket.slice(0, 13)}..${r.toBucket.slice(0, 13)}`)])).toEqual([
      ['report_links_day', ['2026-01-02T00..2026-01-03T00']],
      ['report_links_hour', ['2026-01-01T05..2026-01-02T00', '2026-01-03T00..2026-01-03T05']],
    ]);
  });

  it('in Kathmandu (+5:45) quarter buckets are read only around each local midnight, from the link cube when it holds the dimensions', () => {
    const queries = planRollups({
      range: { fromMs: ms('2026-01-01T18:15:00Z'), toMs: ms('2026-01-03T18:15:00Z') }, timeZone: 'Asia/Kathmandu', time: 'day', groupBy: ['offer_id'], filters: [],
    });
    const quarters = queries.find((q) => q.table === 'report_links_quarter');
    expect(quarters?.ranges).toEqual([
      { fromBucket: '2026-01-01T18:15:00.000Z', toBucket: '2026-01-01T19:00:00.000Z' },
      { fromBucket: '2026-01-02T18:00:00.000Z', toBucket: '2026-01-02T19:00:00.000Z' },
      { fromBucket: '2026-01-03T18:00:00.000Z', toBucket: '2026-01-03T18:15:00.000Z' },
    ]);
    expect(tables(queries)).toEqual(['report_links_hour', 'report_links_quarter']);
    // By sub1 no smaller cube answers any piece: all of it comes from report_rollups.
    const bySub = planRollups({
      range: { fromMs: ms('2026-01-01T18:15:00Z'), toMs: ms('2026-01-03T18:15:00Z') }, timeZone: 'Asia/Kathmandu', time: 'day', groupBy: ['sub1'], filters: [],
    });
    expect(tables(bySub)).toEqual(['report_rollups']);
  });

  it('hour groupings read hour buckets in whole-hour zones and quarter buckets in India (+5:30)', () => {
    const range = { fromMs: ms('2026-01-01T00:00:00Z'), toMs: ms('2026-01-02T00:00:00Z') };
    const needs = { range, time: 'hour' as const, groupBy: ['offer_id' as const], filters: [] };
    expect(tables(planRollups({ ...needs, timeZone: 'America/New_York' }))).toEqual(['report_links_hour']);
    expect(tables(planRollups({ ...needs, timeZone: 'Asia/Kolkata' }))).toEqual(['report_links_quarter']);
    expect(planRollups({ ...needs, timeZone: 'America/New_York' })[0]?.groupBy).toEqual(['bucket', 'offer_id']);
  });

  it('the ranges tile the requested range exactly, in whole buckets of their cube, never across a local day or hour', () => {
    const zones = ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/Berlin', 'Pacific/Chatham'];
    const quarter = GRAIN_MS.quarter;
    const dimensions: RollupDimension[] = ['offer_id', 'partner_id', 'country', 'sub1', 'reason'];
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 4 * 96 * 400 }), fc.integer({ min: 1, max: 96 * 20 }), fc.constantFrom(...zones),
      fc.constantFrom<TimeGrouping>('none', 'day', 'hour'), fc.subarray(dimensions),
      (startQuarter, lengthQuarters, timeZone, time, groupBy) => {
        const fromMs = ms('2025-01-01T00:00:00Z') + startQuarter * quarter;
        const range = { fromMs, toMs: fromMs + lengthQuarters * quarter };
        const queries = planRollups({ range, timeZone, time, groupBy, filters: [] });
        const pieces = queries.flatMap((q) => q.ranges.map((r) => ({ table: q.table, from: ms(r.fromBucket), to: ms(r.toBucket) })));
        pieces.sort((a, b) => a.from - b.from);
        let at = range.fromMs;
        for (const piece of pieces) {
          expect(piece.from).toBe(at);
          expect(piece.from % grainOf(piece.table)).toBe(0);
          expect(piece.to % grainOf(piece.table)).toBe(0);
          at = piece.to;
        }
        expect(at).toBe(range.toMs);
        // Every bucket lies inside one local day (or hour): a period boundary never falls inside one.
        const format = new Intl.DateTimeFormat('en-CA', {
          timeZone, year: 'numeric', month: '2-digit', day: '2-digit', ...(time === 'hour' ? { hour: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' } : {}),
        });
        const label = (t: number) => format.format(t);
        if (time === 'none') return;
        for (const piece of pieces) {
          const size = grainOf(piece.table);
          if (size === quarter) continue;
          for (let bucket = piece.from; bucket < piece.to; bucket += size) expect(label(bucket + size - quarter)).toBe(label(bucket));
        }
      },
    ), { numRuns: 150 });
  });
});

describe('local days where the clocks skipped a date', () => {
  it('Samoa went from 29 to 31 December 2011: the days are the 29th and the 31st, and the range ends', () => {
    const range = { fromMs: Date.parse('2011-12-29T10:00:00Z'), toMs: Date.parse('2011-12-31T10:00:00Z') };
    expect(localDays(range, 'Pacific/Apia')).toEqual([
      { startMs: Date.parse('2011-12-29T10:00:00Z'), label: '2011-12-29' },
      { startMs: Date.parse('2011-12-30T10:00:00Z'), label: '2011-12-31' },
    ]);
  });

  it('a day whose midnight came twice starts at the first (Amman, 29 October 2021)', () => {
    const range = { fromMs: Date.parse('2021-10-27T21:00:00Z'), toMs: Date.parse('2021-10-29T22:00:00Z') };
    expect(localDays(range, 'Asia/Amman').map((d) => [new Date(d.startMs).toISOString(), d.label])).toEqual([
      ['2021-10-27T21:00:00.000Z', '2021-10-28'], ['2021-10-28T21:00:00.000Z', '2021-10-29'],
    ]);
  });
});

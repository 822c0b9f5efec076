import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, TimeZone } from './common.js';

export const DIMENSIONS = [
  'country', 'region', 'city', 'os', 'os_version', 'device_type', 'browser', 'brand', 'language', 'ip',
  'sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'source_id', 'is_bot',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const Rule = Type.Object(
  {
    dimension: StringEnum(DIMENSIONS),
    op: StringEnum(['include', 'exclude'] as const),
    values: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 1,
        maxItems: 1000,
        description: 'Values to match, case-insensitive. For `ip`: CIDR networks. For `is_bot`: "true" or "false".',
      }),
    ),
    min: Type.Optional(Type.String({ format: 'version', description: 'os_version only: lowest accepted version.' })),
    max: Type.Optional(Type.String({ format: 'version', description: 'os_version only: highest accepted version, with every later part of it (`14` accepts 14.2, `16.6` accepts 16.6.1).' })),
  },
  { additionalProperties: false },
);

const ClockTime = Type.String({ pattern: '^(?:[01]\\d|2[0-3]):[0-5]\\d$|^24:00$', examples: ['09:00'] });

export const DayPartingWindow = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), {
      minItems: 1,
      maxItems: 7,
      uniqueItems: true,
      description: '0 = Sunday … 6 = Saturday',
    }),
    start: ClockTime,
    end: ClockTime,
  },
  {
    additionalProperties: false,
    description: 'Open from `start` (inclusive) to `end` (exclusive) on each listed day; an `end` before `start` runs past midnight into the next day (22:00–06:00).',
  },
);

const DayPartingWindows = Type.Array(DayPartingWindow, { minItems: 1, maxItems: 50 });

export const DayParting = Type.Object(
  {
    timezone: Type.Optional(
      Type.Union([TimeZone, Type.Null()], { description: "IANA zone; absent or null = the visitor's zone from geo." }),
    ),
    windows: DayPartingWindows,
  },
  { additionalProperties: false },
);

export const Ruleset = Type.Object(
  {
    rules: Type.Optional(Type.Array(Rule, { maxItems: 50, default: [] })),
    day_parting: Type.Optional(
      Type.Union([DayParting, DayPartingWindows, Type.Null()], {
        description: "Either `{timezone?, windows: [...]}` or, as SPEC §6 writes it, the list of windows itself, in the ruleset's `timezone`.",
      }),
    ),
    timezone: Type.Optional(
      Type.Union([TimeZone, Type.Null()], {
        description: "The IANA zone of a `day_parting` written as a list of windows; absent or null = the visitor's zone from geo.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type Rule = Static<typeof Rule>;
export type Ruleset = Static<typeof Ruleset>;
export type DayParting = Static<typeof DayParting>;

/**
 * A ruleset's day parting in one shape, however it was written: `{timezone?, windows}`, or the
 * list of windows with the zone beside it on the ruleset (SPEC §6). Null when there is none.
 */
export function dayPartingOf(ruleset: Ruleset | null | undefined): DayParting | null {
  const dayParting = ruleset?.day_parting;
  if (!dayParting) return null;
  if (Array.isArray(dayParting)) return { timezone: ruleset?.timezone ?? null, windows: dayParting };
  return dayParting;
}

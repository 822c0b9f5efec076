import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { KPI_METRIC_NAMES } from '../../src/engine/kpi/model.js';

/** One entry's truth: what the simulator knows and the engine must learn. */
const ScenarioEntry = Type.Object(
  {
    cvr: Type.Number({ minimum: 0, maximum: 1, description: 'Chance that a click converts.' }),
    value: Type.Number({ minimum: 0, maximum: 1e6, description: 'Revenue of one conversion (currency units).' }),
    payout: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6, description: 'Payout of one conversion; default 0.' })),
    delay_median_hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 90, description: 'Median click-to-conversion delay.' }),
    eligible_share: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of visitors the entry accepts.' }),
  },
  { additionalProperties: false },
);

/** A change of an entry's truth at a moment of the run (drifting rates). */
const ScenarioChange = Type.Object(
  {
    at_hour: Type.Number({ minimum: 0 }),
    entry: Type.Integer({ minimum: 0, description: 'Index into `entries`.' }),
    cvr: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    value: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
    payout: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
  },
  { additionalProperties: false },
);

export const ScenarioSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 60, description: 'Printed in the BENCH line.' }),
    hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 90 }),
    clicks_per_hour: Type.Integer({ minimum: 1, maximum: 100_000 }),
    seeds: Type.Integer({ minimum: 1, maximum: 1000 }),
    metric: Type.Union(KPI_METRIC_NAMES.map((name) => Type.Literal(name))),
    run_frequency_hours: Type.Union([1, 3, 6, 12, 24].map((h) => Type.Literal(h))),
    lookback_hours: Type.Union([12, 24, 48].map((h) => Type.Literal(h))),
    collection_threshold: Type.Integer({ minimum: 0 }),
    entries: Type.Array(ScenarioEntry, { minItems: 1, maxItems: 500 }),
    changes: Type.Optional(Type.Array(ScenarioChange, { default: [] })),
  },
  { additionalProperties: false },
);

export type ScenarioEntry = Static<typeof ScenarioEntry>;
export type ScenarioChange = Static<typeof ScenarioChange>;
export type Scenario = Static<typeof ScenarioSchema> & { changes: ScenarioChange[] };

/** A scenario file that cannot be used; the message names the file and the field. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Turns `/entries/2/cvr` into `entries[2].cvr`, the way the file's author thinks of it. */
const fieldName = (pointer: string): string =>
  pointer.split('/').filter(Boolean).reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '');

/** For a union of literals (metric, run frequency, lookback), the values that would be accepted. */
function allowedValues(schema: unknown): string {
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (!options?.every((option) => option.const !== undefined)) return '';
  return ` (one of ${options.map((option) => JSON.stringify(option.const)).join(', ')})`;
}

/** Checks untyped JSON against the scenario format; the first problem is thrown with its field. */
export function parseScenario(json: unknown, source: string): Scenario {
  const withDefaults: unknown = Value.Default(ScenarioSchema, structuredClone(json));
  const [problem] = Value.Errors(ScenarioSchema, withDefaults);
  if (problem !== undefined) {
    const field = fieldName(problem.path) || '(top level)';
    throw new ScenarioError(`${source}: field "${field}": ${problem.message}${allowedValues(problem.schema)}`);
  }
  const scenario = withDefaults as Scenario;
  scenario.changes.forEach((change, i) => {
    if (change.entry >= scenario.entries.length) {
      throw new ScenarioError(`${source}: field "changes[${i}].entry": no entry ${change.entry} (the scenario has ${scenario.entries.length})`);
    }
  });
  return scenario;
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${file}: not JSON: ${(err as Error).message}`);
  }
  return parseScenario(json, file);
}

/**
 * The built-in scenarios folder. Walks up from this module, so it is found both from the
 * TypeScript source (vitest) and from the compiled copy in dist-bench.
 */
export function builtInScenarioDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'bench', 'scenarios');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new ScenarioError('cannot find bench/scenarios');
    dir = parent;
  }
}

/** Every built-in scenario, in file-name order. */
export function loadBuiltInScenarios(): Scenario[] {
  const dir = builtInScenarioDir();
  return fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort().map((name) => loadScenario(path.join(dir, name)));
}

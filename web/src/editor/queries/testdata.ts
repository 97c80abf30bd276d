// TestData's scenarios as Pharos serves them (crates/datasource/src/testdata.rs) and the target
// fields each one reads, with the defaults Grafana's editor fills in.

import type { Target } from './types';

export type TestDataField =
  | 'seriesCount'
  | 'startValue'
  | 'min'
  | 'max'
  | 'spread'
  | 'noise'
  | 'dropPercent'
  | 'seed'
  | 'stringInput'
  | 'pulseWave'
  | 'csvWave'
  | 'labels'
  | 'alias';

export interface Scenario {
  id: string;
  label: string;
  fields: TestDataField[];
  /** Filled in when the scenario is chosen and the target lacks them. */
  defaults?: Target;
}

export const DEFAULT_CSV = '1,20,90,30,5,0';
export const DEFAULT_PULSE = { timeStep: 60, onCount: 3, onValue: 2, offCount: 3, offValue: 1 };
export const DEFAULT_CSV_WAVE = [{ timeStep: 60, valuesCSV: '0,0,2,2,1,1' }];

export const SCENARIOS: Scenario[] = [
  {
    id: 'random_walk',
    label: 'Random Walk',
    fields: ['seriesCount', 'startValue', 'min', 'max', 'spread', 'noise', 'dropPercent', 'seed', 'labels', 'alias'],
  },
  { id: 'csv_metric_values', label: 'CSV Metric Values', fields: ['stringInput', 'alias'], defaults: { stringInput: DEFAULT_CSV } },
  { id: 'predictable_pulse', label: 'Predictable Pulse', fields: ['pulseWave', 'labels', 'alias'], defaults: { pulseWave: DEFAULT_PULSE } },
  { id: 'predictable_csv_wave', label: 'Predictable CSV Wave', fields: ['csvWave', 'alias'], defaults: { csvWave: DEFAULT_CSV_WAVE } },
  { id: 'no_data_points', label: 'No Data Points', fields: [] },
  // With a string input Pharos (like Grafana's "Conditional Error") answers it as CSV metric values.
  { id: 'server_error_500', label: 'Server Error (500)', fields: ['stringInput'] },
];

/** The target's scenario; none (or an empty one) is random_walk, as on the server. */
export function scenarioOf(target: Target): string {
  const id = target.scenarioId;
  return typeof id === 'string' && id.trim() ? id.trim() : 'random_walk';
}

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

/** Chooses a scenario: sets `scenarioId` and fills the scenario's defaults that are missing. */
export function withScenario(target: Target, id: string): Target {
  const next: Target = { ...target, scenarioId: id };
  for (const [key, value] of Object.entries(findScenario(id)?.defaults ?? {})) if (next[key] === undefined) next[key] = value;
  return next;
}

/**
 * A number field's input text as stored: a number, undefined when blank (the server's default
 * applies), or an error message. `whole` for counts.
 */
export function parseNumber(input: string, whole = false): { value: number | undefined } | { error: string } {
  const t = input.trim();
  if (t === '') return { value: undefined };
  const n = Number(t);
  if (!Number.isFinite(n)) return { error: `"${t}" is not a number` };
  if (whole && !Number.isInteger(n)) return { error: `"${t}" is not a whole number` };
  return { value: n };
}

/**
 * Why a CSV of values will not parse on the server, or undefined: numbers, `null`, `nan` or
 * nothing between commas.
 */
export function csvProblem(input: string): string | undefined {
  const t = input.trim().replace(/,$/, '');
  if (t === '') return undefined;
  const bad = t
    .split(',')
    .map((v) => v.trim())
    .find((v) => v !== '' && v !== 'null' && v !== 'nan' && v !== 'NaN' && !Number.isFinite(Number(v)));
  return bad === undefined ? undefined : `"${bad}" is not a number (use a number, null or nan)`;
}

/** Why labels will not parse on the server (`key=value, ...` or `{key="value"}`), or undefined. */
export function labelsProblem(input: string): string | undefined {
  const t = input.trim().replace(/^\{/, '').replace(/\}$/, '');
  const bad = t
    .split(',')
    .map((p) => p.trim())
    .find((p) => p !== '' && !p.includes('='));
  return bad === undefined ? undefined : `"${bad}" is not key=value (write e.g. job=api, instance=a)`;
}

// Grafana JSON data frames as POST /api/ds/query returns them, and the views panels need of them.

export type FieldType = 'time' | 'number' | 'string' | 'boolean' | 'other';

export interface FieldConfig {
  displayName?: string;
  displayNameFromDS?: string;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  [key: string]: unknown;
}

export interface FieldSchema {
  name: string;
  type?: FieldType;
  labels?: Record<string, string>;
  config?: FieldConfig;
}

export interface DataFrame {
  schema?: { name?: string; refId?: string; fields: FieldSchema[]; meta?: unknown };
  data?: { values: unknown[][] };
}

export interface QueryResult {
  status?: number;
  error?: string;
  frames?: DataFrame[];
}

export interface QueryResponse {
  results: Record<string, QueryResult>;
}

/** One plottable series: a number field with the time field of its frame. */
export interface Series {
  name: string;
  times: number[];
  values: (number | null)[];
  config: FieldConfig;
  labels: Record<string, string>;
  refId: string;
}

/** `{a="1", b="2"}`, with `__name__` in front when present, as Prometheus and Grafana write series. */
export function formatLabels(labels: Record<string, string>): string {
  const { __name__: metric, ...rest } = labels;
  const inner = Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  if (!inner) return metric ?? '';
  return `${metric ?? ''}{${inner}}`;
}

/** A field's display name, in Grafana's order of preference. */
export function displayName(field: FieldSchema, frame: DataFrame, valueFieldCount: number, template?: string): string {
  const c = field.config ?? {};
  const fromTemplate = template ?? c.displayName;
  if (fromTemplate) return fieldTemplate(fromTemplate, field, frame);
  if (c.displayNameFromDS) return c.displayNameFromDS;
  if (valueFieldCount === 1 && frame.schema?.name) return frame.schema.name;
  if (field.labels && Object.keys(field.labels).length > 0) return formatLabels(field.labels);
  return field.name;
}

/** Fills `${__field.labels.x}`, `${__field.labels}`, `${__field.name}` and `${__series.name}` in a display name. */
export function fieldTemplate(template: string, field: FieldSchema, frame: DataFrame): string {
  return template.replace(/\$\{__(field|series)\.(labels|name|displayName)(?:\.([^}]+))?\}/g, (_, scope: string, what: string, label?: string) => {
    if (scope === 'series') return frame.schema?.name ?? field.name;
    if (what === 'labels') return label ? (field.labels?.[label] ?? '') : formatLabels(field.labels ?? {}).replace(/^\{|\}$/g, '');
    return field.config?.displayNameFromDS ?? field.name;
  });
}

/** Every number field of every frame as a series against its frame's time field. */
export function framesToSeries(frames: readonly DataFrame[], refId = '', displayNameTemplate?: string): Series[] {
  const out: Series[] = [];
  for (const frame of frames) {
    const fields = frame.schema?.fields ?? [];
    const values = frame.data?.values ?? [];
    const timeIndex = fields.findIndex((f) => f.type === 'time');
    if (timeIndex < 0) continue;
    const times = (values[timeIndex] ?? []) as number[];
    const numberFields = fields.map((f, i) => [f, i] as const).filter(([f]) => f.type === 'number');
    for (const [field, i] of numberFields) {
      out.push({
        name: displayName(field, frame, numberFields.length, displayNameTemplate),
        times,
        values: ((values[i] ?? []) as (number | null)[]).map((x) => (typeof x === 'number' ? x : null)),
        config: field.config ?? {},
        labels: field.labels ?? {},
        refId: frame.schema?.refId ?? refId,
      });
    }
  }
  return out;
}

/** The last non-null value of a series (what a stat panel shows by default). */
export function lastValue(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && Number.isFinite(v)) return v;
  }
  return null;
}

/**
 * Aligns series that may have different timestamps onto one sorted time axis (uPlot wants one x
 * array), with null where a series has no point.
 */
export function alignSeries(series: readonly Series[]): { times: number[]; columns: (number | null)[][] } {
  const first = series[0];
  if (first && series.every((s) => s.times === first.times || sameTimes(s.times, first.times))) {
    return { times: first.times, columns: series.map((s) => s.values) };
  }
  const all = new Set<number>();
  for (const s of series) for (const t of s.times) all.add(t);
  const times = [...all].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(times.length).fill(null);
    s.times.forEach((t, i) => (col[index.get(t)!] = s.values[i]));
    return col;
  });
  return { times, columns };
}

function sameTimes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A frame as rows of cells, for the table panel. */
export function frameToTable(frame: DataFrame): { columns: FieldSchema[]; rows: unknown[][] } {
  const columns = frame.schema?.fields ?? [];
  const values = frame.data?.values ?? [];
  const length = Math.max(0, ...values.map((v) => v.length));
  const rows: unknown[][] = [];
  for (let r = 0; r < length; r++) rows.push(columns.map((_, c) => values[c]?.[r] ?? null));
  return { columns, rows };
}

export type Reducer = 'lastNotNull' | 'last' | 'firstNotNull' | 'first' | 'mean' | 'max' | 'min' | 'sum' | 'count' | 'range' | 'delta' | 'diff';

/** Reduces a series to one number with a Grafana reducer id (`reduceOptions.calcs[0]`); legacy names too. */
export function reduce(values: readonly (number | null)[], reducer: string = 'lastNotNull'): number | null {
  const numbers = values.filter((v): v is number => v !== null && Number.isFinite(v));
  switch (reducer) {
    case 'last':
    case 'current':
      return values.length ? values[values.length - 1] : null;
    case 'first':
      return values.length ? values[0] : null;
    case 'firstNotNull':
      return numbers.length ? numbers[0] : null;
    case 'mean':
    case 'avg':
      return numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null;
    case 'max':
      return numbers.length ? Math.max(...numbers) : null;
    case 'min':
      return numbers.length ? Math.min(...numbers) : null;
    case 'sum':
    case 'total':
      return numbers.reduce((a, b) => a + b, 0);
    case 'count':
      return values.length;
    case 'range':
      return numbers.length ? Math.max(...numbers) - Math.min(...numbers) : null;
    case 'delta':
    case 'diff':
      return numbers.length ? numbers[numbers.length - 1] - numbers[0] : null;
    default:
      return lastValue(values);
  }
}

/**
 * Stacks columns (Grafana's `stacking.mode: normal`): each value becomes the sum of itself and the
 * values of the earlier columns in the same group at that point; null stays null (a gap) and adds 0.
 * Returns the stacked columns and, for each, the index of the column it sits on (-1 at the bottom).
 */
export function stackColumns(columns: readonly (number | null)[][], groups: readonly (string | undefined)[]): { stacked: (number | null)[][]; below: number[] } {
  const lastInGroup = new Map<string, number>();
  const stacked: (number | null)[][] = [];
  const below: number[] = [];
  columns.forEach((column, i) => {
    const group = groups[i];
    const base = group === undefined ? -1 : (lastInGroup.get(group) ?? -1);
    below.push(base);
    stacked.push(
      column.map((v, j) => {
        if (v === null) return null;
        let sum = v;
        // Walk down the stack so a gap in the column below does not drop what lies under it.
        for (let b = base; b >= 0; b = below[b]) {
          const under = columns[b][j];
          if (under !== null) sum += under;
        }
        return sum;
      }),
    );
    if (group !== undefined) lastInGroup.set(group, i);
  });
  return { stacked, below };
}

/**
 * Percent stacking: each value as its share of its stack group's total at that time (0..1), so the
 * stacked top is 1. Series outside any group and times whose total is 0 are left as they are.
 */
export function shareOfGroup(columns: readonly (number | null)[][], groups: readonly (string | undefined)[]): (number | null)[][] {
  const totals = new Map<string, number[]>();
  columns.forEach((column, i) => {
    const group = groups[i];
    if (group === undefined) return;
    const sums = totals.get(group) ?? new Array<number>(column.length).fill(0);
    column.forEach((v, j) => (sums[j] += v ?? 0));
    totals.set(group, sums);
  });
  return columns.map((column, i) => {
    const sums = groups[i] === undefined ? undefined : totals.get(groups[i]!);
    return sums ? column.map((v, j) => (v === null || sums[j] === 0 ? v : v / sums[j])) : [...column];
  });
}

// Editing `templating.list`: validating names, moving, duplicating and adding variables, and changing
// a variable's type. Pure functions over Grafana's variable JSON; unknown fields are kept.
import type { VariableModel } from '../../lib/variables';

export const VARIABLE_TYPES = ['query', 'custom', 'constant', 'interval', 'textbox', 'datasource'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export const TYPE_LABELS: Record<VariableType, string> = {
  query: 'Query',
  custom: 'Custom',
  constant: 'Constant',
  interval: 'Interval',
  textbox: 'Text box',
  datasource: 'Data source',
};

/** Why `name` cannot be the name of the variable at `index` (undefined when it can). */
export function nameError(name: string, list: readonly VariableModel[], index: number): string | undefined {
  if (name === '') return 'The name is required.';
  if (!/^[a-zA-Z0-9_]+$/.test(name)) return 'Only letters, digits and _ are allowed.';
  if (name.startsWith('__')) return 'Names starting with __ are reserved for global variables.';
  if (list.some((v, i) => i !== index && v.name === name)) return 'Another variable has this name.';
  return undefined;
}

/** Moves the item at `index` by `delta` (-1 up, +1 down); out of range leaves the list as it is. */
export function moveItem<T>(list: readonly T[], index: number, delta: number): T[] {
  const target = index + delta;
  if (index < 0 || index >= list.length || target < 0 || target >= list.length) return [...list];
  const copy = [...list];
  const [item] = copy.splice(index, 1);
  copy.splice(target, 0, item);
  return copy;
}

/** A name not used yet: `base`, else `base_1`, `base_2`, ... */
export function uniqueName(base: string, list: readonly VariableModel[]): string {
  const taken = new Set(list.map((v) => v.name));
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** A copy right after the original, named `copy_of_<name>` as Grafana names it. */
export function duplicateVariable(list: readonly VariableModel[], index: number): VariableModel[] {
  const original = list[index];
  if (!original) return [...list];
  const copy: VariableModel = { ...structuredClone(original), name: uniqueName(`copy_of_${original.name}`, list) };
  return [...list.slice(0, index + 1), copy, ...list.slice(index + 1)];
}

/** A new query variable (Grafana's default type), appended. */
export function newVariable(list: readonly VariableModel[]): VariableModel {
  return { ...defaultsFor('query'), name: uniqueName('query0', list) } as VariableModel;
}

/** The fields a variable of `type` starts with. */
function defaultsFor(type: VariableType): Partial<VariableModel> & Record<string, unknown> {
  const common = { type, query: '', current: {}, options: [] };
  switch (type) {
    case 'query':
      return { ...common, datasource: null, definition: '', regex: '', sort: 0, refresh: 1, multi: false, includeAll: false };
    case 'custom':
      return { ...common, multi: false, includeAll: false };
    case 'interval':
      return { ...common, query: '1m,10m,30m,1h,6h,12h,1d,7d,14d,30d', auto: false, auto_count: 30, auto_min: '10s', refresh: 2 };
    case 'datasource':
      return { ...common, query: 'prometheus', regex: '', multi: false, includeAll: false, refresh: 1 };
    default:
      return common;
  }
}

/** Fields that belong to one type only: dropped when the type changes, so no stale setting stays behind. */
const TYPE_FIELDS = ['query', 'current', 'options', 'datasource', 'definition', 'regex', 'sort', 'refresh', 'multi', 'includeAll', 'allValue', 'auto', 'auto_count', 'auto_min'];

/** The variable as `type`: its name, label, description and hide setting kept, the rest reset. */
export function changeType(v: VariableModel, type: VariableType): VariableModel {
  if (v.type === type) return v;
  const kept = Object.fromEntries(Object.entries(v).filter(([key]) => !TYPE_FIELDS.includes(key)));
  return { ...kept, ...defaultsFor(type), name: v.name } as VariableModel;
}

/**
 * Sets the query text, keeping the shape the dashboard stored it in: a string stays a string, the
 * object form (`{query, refId}`, Prometheus in newer Grafana) keeps its other fields. `definition` is
 * Grafana's display copy of the query; it follows when present.
 */
export function withQueryText(v: VariableModel, text: string): VariableModel {
  const next: VariableModel & { definition?: unknown } = { ...v };
  if (v.query && typeof v.query === 'object') next.query = { ...v.query, query: text };
  else next.query = text;
  if ('definition' in v) next.definition = text;
  return next;
}

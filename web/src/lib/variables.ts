// Dashboard template variables (`templating.list`): their options, their order of resolution and
// the values sent with queries. Interpolation itself happens on the server (the `variables` field of
// POST /api/ds/query), so the UI only has to know each variable's current value.

export const ALL_VALUE = '$__all';

export interface VariableOption {
  text: string;
  value: string;
}

export interface VariableCurrent {
  text?: string | string[];
  value?: string | string[];
}

/** A variable as a Grafana dashboard stores it (the fields the view reads). */
export interface VariableModel {
  name: string;
  type: string;
  label?: string;
  /** 0 shows label and control, 1 hides the label, 2 hides the variable. */
  hide?: number;
  query?: string | { query?: string; [key: string]: unknown };
  datasource?: { type?: string; uid?: string } | string | null;
  current?: VariableCurrent;
  options?: { text: string | string[]; value: string | string[]; selected?: boolean }[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  regex?: string;
  sort?: number;
  /** 0 never, 1 on dashboard load, 2 on time range change. */
  refresh?: number;
  description?: string;
  /** Interval variables: offer "auto", the range split into auto_count steps, at least auto_min. */
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
}

/** The text of a variable's query, whichever shape it was stored in. */
export function queryText(v: VariableModel): string {
  if (typeof v.query === 'string') return v.query;
  if (v.query && typeof v.query.query === 'string') return v.query.query;
  return '';
}

/** Every way Grafana lets text reference a variable: $name, ${name}, ${name:format}, [[name]]. */
const REFERENCE = /\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]/g;

/** The variable names a text references. */
export function referencedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(REFERENCE)) names.add(m[1] ?? m[2] ?? m[3]);
  return names;
}

/** The names of the other variables this one needs before it can list its options. */
export function dependencies(v: VariableModel, all: readonly VariableModel[]): string[] {
  const ds = typeof v.datasource === 'string' ? v.datasource : (v.datasource?.uid ?? '');
  const refs = referencedNames(`${queryText(v)} ${ds} ${v.regex ?? ''}`);
  return all.filter((o) => o.name !== v.name && refs.has(o.name)).map((o) => o.name);
}

/**
 * Orders variables so each comes after those it references (keeping the dashboard's order where it
 * is free); variables in a reference cycle keep their dashboard order.
 */
export function dependencyOrder(vars: readonly VariableModel[]): VariableModel[] {
  const done = new Set<string>();
  const visiting = new Set<string>();
  const ordered: VariableModel[] = [];
  const byName = new Map(vars.map((v) => [v.name, v]));
  const visit = (v: VariableModel) => {
    if (done.has(v.name) || visiting.has(v.name)) return;
    visiting.add(v.name);
    for (const dep of dependencies(v, vars)) visit(byName.get(dep)!);
    visiting.delete(v.name);
    done.add(v.name);
    ordered.push(v);
  };
  vars.forEach(visit);
  return ordered;
}

/** Every variable that (directly or not) depends on `name`, in dependency order. */
export function dependents(name: string, vars: readonly VariableModel[]): string[] {
  const affected = new Set([name]);
  for (const v of dependencyOrder(vars)) {
    if (dependencies(v, vars).some((d) => affected.has(d))) affected.add(v.name);
  }
  affected.delete(name);
  return dependencyOrder(vars)
    .map((v) => v.name)
    .filter((n) => affected.has(n));
}

/** Options of a `custom` variable: comma separated, `\,` for a literal comma, `text : value` pairs. */
export function customOptions(query: string): VariableOption[] {
  const parts = query.match(/(?:\\,|[^,])+/g) ?? [];
  return parts
    .map((p) => p.replace(/\\,/g, ',').trim())
    .filter((p) => p !== '')
    .map((p) => {
      const pair = /^(.+?)\s+:\s+(.+)$/.exec(p);
      return pair ? { text: pair[1].trim(), value: pair[2].trim() } : { text: p, value: p };
    });
}

const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Chooses the selection after options are (re)loaded: the wanted values that still exist (All stays
 * All), else the first option, as Grafana does. Single-value variables keep one value.
 */
export function pickSelection(options: readonly VariableOption[], wanted: readonly string[], v: Pick<VariableModel, 'multi' | 'includeAll'>): string[] {
  if (wanted.includes(ALL_VALUE) && v.includeAll) return [ALL_VALUE];
  const values = new Set(options.map((o) => o.value));
  const kept = wanted.filter((w) => values.has(w));
  if (kept.length > 0) return v.multi ? kept : [kept[0]];
  if (v.includeAll && options.length === 0) return [ALL_VALUE];
  return options.length > 0 ? [options[0].value] : [];
}

/** The values initially wanted: the URL's, else the dashboard's saved `current`. */
export function initialSelection(v: VariableModel, fromUrl: string[] | undefined): string[] {
  if (fromUrl && fromUrl.length > 0) return fromUrl;
  return asArray(v.current?.value);
}

/** The value a query sees: All expands to every option (or the custom all value). */
export function requestValue(v: VariableModel, selection: readonly string[], options: readonly VariableOption[]): string | string[] {
  let values = [...selection];
  if (values.includes(ALL_VALUE)) {
    if (v.allValue) return v.allValue;
    values = options.map((o) => o.value);
  }
  if (!v.multi && !selection.includes(ALL_VALUE)) return values[0] ?? '';
  return values;
}

/** Text shown for a selection: option texts joined with " + ", as Grafana shows them. */
export function selectionText(selection: readonly string[], options: readonly VariableOption[]): string {
  if (selection.includes(ALL_VALUE)) return 'All';
  if (selection.length === 0) return 'None';
  return selection.map((s) => options.find((o) => o.value === s)?.text ?? s).join(' + ');
}

/**
 * Fills variable references in display text (panel and row titles). Queries are interpolated by the
 * server; this is only for what the user reads, so multi-values join with ", " and unknown names stay.
 */
export function interpolateDisplay(text: string, values: Record<string, string | string[]>): string {
  if (!text.includes('$') && !text.includes('[[')) return text;
  return text.replace(REFERENCE, (whole, a?: string, b?: string, c?: string) => {
    const value = values[a ?? b ?? c ?? ''];
    if (value === undefined) return whole;
    return Array.isArray(value) ? value.join(', ') : value;
  });
}

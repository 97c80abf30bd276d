// The rule editor's form and its two-way mapping to Grafana's rule JSON, and the rule list's
// states and filters. Pure functions, so they are unit-tested without a page.
import type { AlertQuery, AlertRule, ExecErrState, NoDataState, RuleState, RuleStateGroup } from '../../api/alerting';
import { parseDuration } from '../../lib/time';

/** Grafana's annotations that link a rule to a dashboard panel (its state changes are drawn there). */
export const DASHBOARD_UID_KEY = '__dashboardUid__';
export const PANEL_ID_KEY = '__panelId__';

/** The datasource uid of server-side expressions. */
export const EXPRESSION_UID = '__expr__';

export type ExpressionKind = 'reduce' | 'math' | 'threshold';
export const REDUCERS = ['last', 'mean', 'min', 'max', 'sum', 'count'] as const;
export const EVALUATORS = [
  { type: 'gt', label: 'Is above', params: 1 },
  { type: 'lt', label: 'Is below', params: 1 },
  { type: 'within_range', label: 'Is within range', params: 2 },
  { type: 'outside_range', label: 'Is outside range', params: 2 },
] as const;

export interface QueryForm {
  refId: string;
  datasourceUid: string;
  /** The datasource's type (picks the query editor); not stored in the rule itself. */
  datasourceType: string;
  /** How far back the query looks, as a duration (`10m`). */
  range: string;
  /** The query model as the query editors edit it (`expr`, `legendFormat`, ...). */
  model: Record<string, unknown>;
}

export interface ExpressionForm {
  refId: string;
  /** `other` is an expression this editor does not edit (classic conditions): kept as it came. */
  kind: ExpressionKind | 'other';
  /** The refId reduce and threshold read. */
  input: string;
  reducer: string;
  /** Math's expression (`$A * 100`). */
  math: string;
  evaluator: string;
  /** Threshold parameters as typed (one, or two for a range). */
  params: [string, string];
  /** The model as loaded, so fields this form does not show survive a save. */
  model: Record<string, unknown>;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface RuleForm {
  uid?: string;
  version?: number;
  /** Who manages the rule (`api`, `file`); empty for rules made in the UI. Shown, never sent. */
  provenance?: string;
  title: string;
  folderUid: string;
  group: string;
  /** The evaluation interval to give the group (`1m`); empty keeps an existing group's, or 1m for a new one. */
  groupInterval: string;
  queries: QueryForm[];
  expressions: ExpressionForm[];
  condition: string;
  pendingFor: string;
  labels: KeyValue[];
  /** Annotations; `summary` and `description` are shown as fields of their own. */
  annotations: KeyValue[];
  summary: string;
  description: string;
  /** The panel the rule's state changes are drawn on (Grafana's `__dashboardUid__`, `__panelId__`). */
  dashboardUid: string;
  panelId: string;
  noDataState: NoDataState;
  execErrState: ExecErrState;
  isPaused: boolean;
  /** Fields of the loaded rule the form does not edit (notification settings, ...), sent back as they were. */
  extra: Record<string, unknown>;
}

/** The next free refId: A, B, ..., Z, then AA, AB, ... */
export function nextRefId(taken: readonly string[]): string {
  const used = new Set(taken);
  for (let n = 0; ; n++) {
    let id = '';
    let k = n;
    do {
      id = String.fromCharCode(65 + (k % 26)) + id;
      k = Math.floor(k / 26) - 1;
    } while (k >= 0);
    if (!used.has(id)) return id;
  }
}

export function newExpression(kind: ExpressionKind, refId: string, input = ''): ExpressionForm {
  return { refId, kind, input, reducer: 'last', math: input ? `$${input}` : '', evaluator: 'gt', params: ['0', ''], model: {} };
}

/** Grafana's default new rule: a query A, B = last(A), C = B > 0, C the condition. */
export function newRuleForm(datasource?: { uid: string; type: string }, folderUid = ''): RuleForm {
  return {
    title: '',
    folderUid,
    group: '',
    groupInterval: '',
    queries: [{ refId: 'A', datasourceUid: datasource?.uid ?? '', datasourceType: datasource?.type ?? '', range: '10m', model: {} }],
    expressions: [newExpression('reduce', 'B', 'A'), newExpression('threshold', 'C', 'B')],
    condition: 'C',
    pendingFor: '5m',
    labels: [],
    annotations: [],
    summary: '',
    description: '',
    dashboardUid: '',
    panelId: '',
    noDataState: 'NoData',
    execErrState: 'Error',
    isPaused: false,
    extra: {},
  };
}

/** Seconds as the shortest duration text: 600 → `10m`, 90 → `90s`, 3600 → `1h`. */
export function secondsToDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A duration (`10m`, `1h30m`, `90s`) in whole seconds, or undefined when it does not parse. */
export function durationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Compound durations (`1h30m`, Go's `5m0s`) are summed part by part.
  const parts = trimmed.match(/\d+(ms|[smhdwy])/g);
  if (!parts || parts.join('') !== trimmed) return undefined;
  let ms = 0;
  for (const part of parts) {
    const value = parseDuration(part);
    if (value === undefined) return undefined;
    ms += value;
  }
  return Math.round(ms / 1000);
}

const toPairs = (record: Record<string, string> | undefined): KeyValue[] => Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));

function fromPairs(pairs: readonly KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of pairs) if (key.trim()) out[key.trim()] = value;
  return out;
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
/** A refId as reduce and threshold write it: `A`, tolerating `$A`. */
const bareRef = (v: unknown) => str(v).trim().replace(/^\$\{?/, '').replace(/\}$/, '');

function expressionFromModel(q: AlertQuery): ExpressionForm {
  const model = q.model ?? {};
  const type = str(model.type);
  const base = newExpression('reduce', q.refId);
  const form: ExpressionForm = { ...base, model, kind: 'other' };
  if (type === 'reduce') return { ...form, kind: 'reduce', input: bareRef(model.expression), reducer: str(model.reducer, 'last') };
  if (type === 'math') return { ...form, kind: 'math', math: str(model.expression) };
  if (type === 'threshold') {
    const conditions = Array.isArray(model.conditions) ? (model.conditions as Record<string, unknown>[]) : [];
    const evaluator = (conditions[0]?.evaluator ?? {}) as { type?: string; params?: unknown[] };
    const params = Array.isArray(evaluator.params) ? evaluator.params : [];
    return { ...form, kind: 'threshold', input: bareRef(model.expression), evaluator: evaluator.type ?? 'gt', params: [str(params[0], '0'), str(params[1])] };
  }
  return form;
}

/** The editor's form for a stored rule; `typeOf` names a datasource's type by uid. */
export function ruleToForm(rule: AlertRule, typeOf: (uid: string) => string | undefined = () => undefined): RuleForm {
  const known = new Set(['uid', 'orgID', 'folderUID', 'ruleGroup', 'title', 'condition', 'data', 'updated', 'noDataState', 'execErrState', 'for', 'annotations', 'labels', 'provenance', 'isPaused', 'version', 'id']);
  const extra = Object.fromEntries(Object.entries(rule).filter(([k]) => !known.has(k)));
  const annotations = { ...(rule.annotations ?? {}) };
  const summary = annotations.summary ?? '';
  const description = annotations.description ?? '';
  const dashboardUid = annotations[DASHBOARD_UID_KEY] ?? '';
  const panelId = annotations[PANEL_ID_KEY] ?? '';
  for (const own of ['summary', 'description', DASHBOARD_UID_KEY, PANEL_ID_KEY]) delete annotations[own];
  const queries: QueryForm[] = [];
  const expressions: ExpressionForm[] = [];
  for (const q of rule.data ?? []) {
    if (q.datasourceUid === EXPRESSION_UID || q.datasourceUid === '-100') {
      expressions.push(expressionFromModel(q));
    } else {
      const model = { ...(q.model ?? {}) };
      const modelType = str((model.datasource as { type?: string } | undefined)?.type);
      queries.push({
        refId: q.refId,
        datasourceUid: q.datasourceUid,
        datasourceType: typeOf(q.datasourceUid) ?? modelType,
        range: secondsToDuration(q.relativeTimeRange?.from ?? 600),
        model,
      });
    }
  }
  return {
    uid: rule.uid,
    version: rule.version,
    provenance: rule.provenance || undefined,
    title: rule.title ?? '',
    folderUid: rule.folderUID ?? '',
    group: rule.ruleGroup ?? '',
    groupInterval: '',
    queries,
    expressions,
    condition: rule.condition ?? '',
    pendingFor: rule.for || '0s',
    labels: toPairs(rule.labels),
    annotations: toPairs(annotations),
    summary,
    description,
    dashboardUid,
    panelId,
    noDataState: rule.noDataState ?? 'NoData',
    execErrState: rule.execErrState ?? 'Error',
    isPaused: rule.isPaused === true,
    extra,
  };
}

function expressionModel(e: ExpressionForm): Record<string, unknown> {
  const common = { refId: e.refId, datasource: { type: EXPRESSION_UID, uid: EXPRESSION_UID } };
  switch (e.kind) {
    case 'reduce':
      return { ...e.model, ...common, type: 'reduce', expression: e.input, reducer: e.reducer };
    case 'math':
      return { ...e.model, ...common, type: 'math', expression: e.math };
    case 'threshold': {
      const count = EVALUATORS.find((ev) => ev.type === e.evaluator)?.params ?? 1;
      const params = e.params.slice(0, count).map((p) => Number(p));
      return { ...e.model, ...common, type: 'threshold', expression: e.input, conditions: [{ evaluator: { type: e.evaluator, params } }] };
    }
    default:
      return { ...e.model, refId: e.refId };
  }
}

/** The `data` of a rule: the queries, then the expressions, in form order. */
export function formToData(form: RuleForm): AlertQuery[] {
  const queries: AlertQuery[] = form.queries.map((q) => ({
    refId: q.refId,
    relativeTimeRange: { from: durationSeconds(q.range) ?? 600, to: 0 },
    datasourceUid: q.datasourceUid,
    model: { ...q.model, refId: q.refId, datasource: { type: q.datasourceType, uid: q.datasourceUid } },
  }));
  const expressions: AlertQuery[] = form.expressions.map((e) => ({
    refId: e.refId,
    relativeTimeRange: { from: 0, to: 0 },
    datasourceUid: EXPRESSION_UID,
    model: expressionModel(e),
  }));
  return [...queries, ...expressions];
}

/** Grafana's rule JSON for the form (what POST and PUT take). */
export function formToRule(form: RuleForm): AlertRule {
  const annotations = fromPairs(form.annotations);
  if (form.summary.trim()) annotations.summary = form.summary;
  if (form.description.trim()) annotations.description = form.description;
  if (form.dashboardUid.trim()) annotations[DASHBOARD_UID_KEY] = form.dashboardUid.trim();
  if (form.dashboardUid.trim() && form.panelId.trim()) annotations[PANEL_ID_KEY] = form.panelId.trim();
  const rule: AlertRule = {
    ...form.extra,
    title: form.title.trim(),
    folderUID: form.folderUid,
    ruleGroup: form.group.trim(),
    condition: form.condition,
    data: formToData(form),
    noDataState: form.noDataState,
    execErrState: form.execErrState,
    for: form.pendingFor.trim() || '0s',
    labels: fromPairs(form.labels),
    annotations,
    isPaused: form.isPaused,
  };
  if (form.uid) rule.uid = form.uid;
  if (form.version !== undefined) rule.version = form.version;
  return rule;
}

/** What is wrong with the form before it is sent (the server checks the rest), or an empty list. */
export function formProblems(form: RuleForm): string[] {
  const problems: string[] = [];
  if (!form.title.trim()) problems.push('The rule needs a title.');
  if (!form.folderUid) problems.push('Choose a folder.');
  if (!form.group.trim()) problems.push('Choose or name an evaluation group.');
  if (form.groupInterval.trim()) {
    const seconds = durationSeconds(form.groupInterval);
    if (!seconds || seconds % 10 !== 0) problems.push('The group’s interval must be a positive multiple of 10 s (10s, 1m, 5m).');
  }
  if (form.queries.length === 0) problems.push('Add at least one query.');
  for (const q of form.queries) {
    if (!q.datasourceUid) problems.push(`Query ${q.refId} needs a data source.`);
    if (!durationSeconds(q.range)) problems.push(`Query ${q.refId}'s range must be a duration such as 10m.`);
  }
  const refIds = [...form.queries.map((q) => q.refId), ...form.expressions.map((e) => e.refId)];
  if (new Set(refIds).size !== refIds.length) problems.push('Every query and expression needs its own name.');
  for (const e of form.expressions) {
    if ((e.kind === 'reduce' || e.kind === 'threshold') && !refIds.includes(e.input)) problems.push(`Expression ${e.refId} reads ${e.input || 'nothing'}: choose an input.`);
    if (e.kind === 'math' && !e.math.trim()) problems.push(`Expression ${e.refId} needs a math expression.`);
    if (e.kind === 'threshold') {
      const count = EVALUATORS.find((ev) => ev.type === e.evaluator)?.params ?? 1;
      if (e.params.slice(0, count).some((p) => p.trim() === '' || !Number.isFinite(Number(p)))) problems.push(`Expression ${e.refId}'s threshold needs ${count === 1 ? 'a number' : 'two numbers'}.`);
    }
  }
  if (!refIds.includes(form.condition)) problems.push('Choose the condition (the query or expression whose result decides the alert).');
  if (durationSeconds(form.pendingFor || '0s') === undefined) problems.push('Pending period must be a duration such as 5m.');
  if (form.panelId.trim() && !/^\d+$/.test(form.panelId.trim())) problems.push('The panel ID must be a number (the panel’s id in the dashboard JSON).');
  if (form.panelId.trim() && !form.dashboardUid.trim()) problems.push('A panel ID needs the dashboard UID it belongs to.');
  return problems;
}

// --- the rule list ----------------------------------------------------------------------------

export const STATES = ['Normal', 'Pending', 'Alerting', 'NoData', 'Error'] as const;
export type DisplayState = (typeof STATES)[number];

/** A rule's state as the list shows it: the most urgent of its instances' states. */
export function ruleDisplayState(rule: Pick<RuleState, 'state' | 'totals'>): DisplayState {
  const t = rule.totals ?? {};
  if ((t.alerting ?? 0) > 0) return 'Alerting';
  if ((t.error ?? 0) > 0) return 'Error';
  if ((t.nodata ?? 0) > 0) return 'NoData';
  if ((t.pending ?? 0) > 0 || rule.state === 'pending') return 'Pending';
  return rule.state === 'firing' ? 'Alerting' : 'Normal';
}

/** Instance counts by state, in the list's order, leaving out zeros: `[['Alerting', 2], ...]`. */
export function instanceCounts(rule: Pick<RuleState, 'totals'>): [DisplayState, number][] {
  return STATES.map((s) => [s, rule.totals?.[s.toLowerCase()] ?? 0] as [DisplayState, number]).filter(([, n]) => n > 0);
}

export interface ListFilter {
  state?: DisplayState | '';
  /** Words that must each be in the title or a label (`key=value` matches a label exactly). */
  search?: string;
  folderUid?: string;
}

function matchesWord(rule: RuleState, word: string): boolean {
  const w = word.toLowerCase();
  const labels = Object.entries(rule.labels ?? {});
  const eq = w.indexOf('=');
  if (eq > 0) {
    const [key, value] = [w.slice(0, eq), w.slice(eq + 1)];
    return labels.some(([k, v]) => k.toLowerCase() === key && v.toLowerCase() === value);
  }
  return rule.name.toLowerCase().includes(w) || labels.some(([k, v]) => k.toLowerCase().includes(w) || v.toLowerCase().includes(w));
}

/** The groups with only the rules that pass the filter; groups left empty are dropped. */
export function filterGroups(groups: readonly RuleStateGroup[], filter: ListFilter): RuleStateGroup[] {
  const words = (filter.search ?? '').split(/\s+/).filter(Boolean);
  return groups
    .filter((g) => !filter.folderUid || g.folderUid === filter.folderUid)
    .map((g) => ({
      ...g,
      rules: g.rules.filter((r) => {
        if (filter.state && ruleDisplayState(r) !== filter.state && !(r.alerts ?? []).some((a) => a.state === filter.state)) return false;
        return words.every((w) => matchesWord(r, w));
      }),
    }))
    .filter((g) => g.rules.length > 0);
}

/** Groups by folder (by the folder's title), the folder's groups by name. */
export function byFolder(groups: readonly RuleStateGroup[]): { folderUid: string; title: string; groups: RuleStateGroup[] }[] {
  const folders = new Map<string, { folderUid: string; title: string; groups: RuleStateGroup[] }>();
  for (const g of groups) {
    const entry = folders.get(g.folderUid) ?? { folderUid: g.folderUid, title: g.file || g.folderUid, groups: [] };
    entry.groups.push(g);
    folders.set(g.folderUid, entry);
  }
  return [...folders.values()]
    .sort((a, b) => a.title.localeCompare(b.title))
    .map((f) => ({ ...f, groups: [...f.groups].sort((a, b) => a.name.localeCompare(b.name)) }));
}

/** Labels as `a=1, b=2` (sorted), or an empty string. */
export function labelText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** A value of the preview or history, short: 3 significant decimals, `–` for none. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toPrecision(4) : String(Number(v.toFixed(3)));
}

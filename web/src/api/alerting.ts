// Grafana's alerting API, rules side: provisioned rules and groups, the Prometheus-style state list,
// the state history, the editor's preview (/api/v1/eval) and alert annotations. Reads need Viewer,
// writes Editor; a rule the server refuses answers 400 with its reason in `message`.
import type { DataFrame } from '../lib/frames';
import { ApiError, requestJson, withQuery } from './client';

/** The relative range a rule query covers, in seconds before the evaluation (`{from: 600, to: 0}`). */
export interface RelativeTimeRange {
  from: number;
  to: number;
}

/** One entry of a rule's `data`: a datasource query, or an expression (`datasourceUid: '__expr__'`). */
export interface AlertQuery {
  refId: string;
  queryType?: string;
  relativeTimeRange?: RelativeTimeRange;
  datasourceUid: string;
  model: Record<string, unknown>;
}

export type NoDataState = 'NoData' | 'Alerting' | 'OK' | 'KeepLast';
export type ExecErrState = 'Error' | 'Alerting' | 'OK' | 'KeepLast';

/** Grafana's `ProvisionedAlertRule` (plus Pharos' `version`); unknown fields are kept by spreading. */
export interface AlertRule {
  uid?: string;
  orgID?: number;
  folderUID: string;
  ruleGroup: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  updated?: string;
  noDataState: NoDataState;
  execErrState: ExecErrState;
  for: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  provenance?: string;
  isPaused?: boolean;
  version?: number;
  [extra: string]: unknown;
}

export interface RuleGroup {
  title: string;
  folderUid: string;
  /** Seconds between evaluations. */
  interval: number;
  rules: AlertRule[];
}

/** An alert of a rule in the state list (one per instance). */
export interface RuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Normal, Pending, Alerting, NoData, Error. */
  state: string;
  activeAt: string;
  value: string;
}

/** A rule in the Prometheus-style state list. */
export interface RuleState {
  state: 'firing' | 'pending' | 'inactive';
  name: string;
  uid: string;
  folderUid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  alerts: RuleAlert[];
  /** Instances by lower-cased state (`normal`, `alerting`, ...). */
  totals: Record<string, number>;
  health: 'ok' | 'nodata' | 'error' | 'unknown' | string;
  lastError: string;
  isPaused: boolean;
  lastEvaluation: string;
}

export interface RuleStateGroup {
  name: string;
  /** The folder's title. */
  file: string;
  folderUid: string;
  interval: number;
  rules: RuleState[];
}

interface RulesStateResponse {
  status: string;
  data: { groups: RuleStateGroup[] };
}

/** One state transition, as `line` of the history frame carries it. */
export interface HistoryEntry {
  time: number;
  ruleUID: string;
  previous: string;
  current: string;
  labels: Record<string, string>;
  values: Record<string, number | null>;
}

interface HistoryFrame {
  data?: { values?: unknown[][] };
}

/** What POST /api/v1/eval answers for each refId. */
export interface EvalResult {
  status: number;
  frames?: DataFrame[];
  error?: string;
}

export interface EvalInstance {
  labels: Record<string, string>;
  state: 'Normal' | 'Alerting' | 'NoData' | 'Error' | string;
  values?: Record<string, number | null>;
}

export interface EvalResponse {
  results: Record<string, EvalResult>;
  instances: EvalInstance[];
}

/** An alert state change drawn on a panel. */
export interface AlertAnnotation {
  id: number;
  alertName?: string;
  dashboardUID?: string;
  panelId?: number;
  /** Epoch ms. */
  time: number;
  timeEnd?: number;
  newState: string;
  prevState?: string;
  text?: string;
  tags?: string[];
}

const rulePath = (uid: string) => `/api/v1/provisioning/alert-rules/${encodeURIComponent(uid)}`;
const groupPath = (folderUid: string, group: string) =>
  `/api/v1/provisioning/folder/${encodeURIComponent(folderUid)}/rule-groups/${encodeURIComponent(group)}`;

export const listRules = (signal?: AbortSignal) => requestJson<AlertRule[]>('/api/v1/provisioning/alert-rules', { signal });

export const getRule = (uid: string, signal?: AbortSignal) => requestJson<AlertRule>(rulePath(uid), { signal });

/**
 * Rules written from the UI carry no provenance (Grafana's `X-Disable-Provenance`), so they stay
 * editable in the UI, as Grafana's own editor leaves them; `api` marks rules managed by other tools.
 */
const UI_WRITE = { 'X-Disable-Provenance': 'true' };

export const createRule = (rule: AlertRule) => requestJson<AlertRule>('/api/v1/provisioning/alert-rules', { method: 'POST', body: rule, headers: UI_WRITE });

export const updateRule = (uid: string, rule: AlertRule) => requestJson<AlertRule>(rulePath(uid), { method: 'PUT', body: rule, headers: UI_WRITE });

export const deleteRule = (uid: string) => requestJson<void>(rulePath(uid), { method: 'DELETE' });

export const getRuleGroup = (folderUid: string, group: string, signal?: AbortSignal) => requestJson<RuleGroup>(groupPath(folderUid, group), { signal });

/** Sets a group's interval, keeping its rules as they are (the PUT replaces the whole group). */
export async function setGroupInterval(folderUid: string, group: string, interval: number): Promise<RuleGroup> {
  const current = await getRuleGroup(folderUid, group);
  return requestJson<RuleGroup>(groupPath(folderUid, group), { method: 'PUT', body: { ...current, interval }, headers: UI_WRITE });
}

export async function ruleStates(signal?: AbortSignal): Promise<RuleStateGroup[]> {
  const answer = await requestJson<RulesStateResponse>('/api/prometheus/grafana/api/v1/rules', { signal });
  return answer?.data?.groups ?? [];
}

/** The state history, oldest first (the server answers one data frame: time, line, labels). */
export async function stateHistory(params: { ruleUID?: string; from?: number; to?: number; limit?: number }, signal?: AbortSignal): Promise<HistoryEntry[]> {
  const frame = await requestJson<HistoryFrame>(withQuery('/api/v1/rules/history', params), { signal });
  return historyEntries(frame);
}

/** The entries of a history frame; rows whose `line` is not an object are skipped. */
export function historyEntries(frame: HistoryFrame | undefined): HistoryEntry[] {
  const [times = [], lines = []] = frame?.data?.values ?? [];
  const out: HistoryEntry[] = [];
  lines.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') return;
    const line = raw as Record<string, unknown>;
    out.push({
      time: Number(times[i] ?? 0),
      ruleUID: String(line.ruleUID ?? ''),
      previous: String(line.previous ?? ''),
      current: String(line.current ?? ''),
      labels: (line.labels as Record<string, string> | undefined) ?? {},
      values: (line.values as Record<string, number | null> | undefined) ?? {},
    });
  });
  return out;
}

export const evaluateRule = (data: AlertQuery[], condition: string, signal?: AbortSignal) =>
  requestJson<EvalResponse>('/api/v1/eval', { method: 'POST', body: { data, condition }, signal });

/** Set once the server answered 404 for the annotations route: it is older and has none to give. */
let annotationsMissing = false;

/**
 * Alert annotations of a dashboard in a time range (epoch ms). A server without the route (404) has
 * none to draw: that answers an empty list rather than an error, and it is not asked again.
 */
export async function alertAnnotations(
  params: { dashboardUID: string; panelId?: number; from: number; to: number; limit?: number },
  signal?: AbortSignal,
): Promise<AlertAnnotation[]> {
  if (annotationsMissing) return [];
  try {
    const list = await requestJson<AlertAnnotation[]>(withQuery('/api/annotations', { type: 'alert', ...params }), { signal });
    return Array.isArray(list) ? list : [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      annotationsMissing = true;
      return [];
    }
    throw e;
  }
}

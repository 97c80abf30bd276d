// The General settings' fields that need parsing: the auto-refresh intervals list, the default time
// range and the JSON model page's "Save changes".
import { parseDuration, parseTime } from '../../lib/time';
import type { DashboardModel } from '../model';

/** Grafana's default `timepicker.refresh_intervals`. */
export const DEFAULT_REFRESH_INTERVALS = ['5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '2h', '1d'];

/** Parses `5s, 10s, 1m`: the intervals, or the first entry that is not a duration. */
export function parseRefreshIntervals(text: string): { intervals: string[] } | { error: string } {
  const intervals = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = intervals.find((s) => parseDuration(s) === undefined);
  if (bad !== undefined) return { error: `"${bad}" is not an interval (use e.g. 30s, 5m, 1h, 1d).` };
  return { intervals };
}

/** Why a default time range end cannot be used (`now-6h`, `now/d`, an absolute date), or undefined. */
export function timeError(text: string): string | undefined {
  if (text.trim() === '') return 'Required.';
  return parseTime(text.trim()) === undefined ? `"${text}" is not a time (use e.g. now-6h, now/d or 2024-01-01 00:00:00).` : undefined;
}

/**
 * The JSON model page's text as a dashboard for the working copy: it must be a JSON object with the
 * same uid (the uid names the dashboard being saved; changing it would save a different one).
 */
export function parseJsonModel(text: string, current: DashboardModel): { dashboard: DashboardModel } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'The dashboard JSON must be an object.' };
  const dashboard = value as DashboardModel;
  if ((dashboard.uid ?? '') !== (current.uid ?? '')) return { error: `The uid cannot be changed here (it is "${current.uid}").` };
  if (typeof dashboard.title !== 'string' || dashboard.title.trim() === '') return { error: 'The dashboard needs a title.' };
  return { dashboard };
}

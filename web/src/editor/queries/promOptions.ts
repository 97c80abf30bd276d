// Grafana's Prometheus query options as stored in the target: legend mode, query type and min step.

import { text, type Target } from './types';

/** The special `legendFormat` that asks for Grafana's minimal ("Auto") series names. */
export const LEGEND_AUTO = '__auto';

export type LegendMode = 'auto' | 'verbose' | 'custom';

/** Grafana's reading: `__auto` is Auto, missing or empty is Verbose (the full series name), else Custom. */
export function legendMode(target: Target): LegendMode {
  const format = target.legendFormat;
  if (format === LEGEND_AUTO) return 'auto';
  if (format === undefined || format === null || format === '') return 'verbose';
  return 'custom';
}

/** The `legendFormat` a legend mode stores; Custom starts from a template to edit. */
export function legendFormatFor(mode: LegendMode, current: Target): string {
  if (mode === 'auto') return LEGEND_AUTO;
  if (mode === 'verbose') return '';
  return legendMode(current) === 'custom' ? text(current, 'legendFormat') : '{{label_name}}';
}

export type QueryType = 'range' | 'instant' | 'both';

/** Range unless only `instant` is set; both flags set is "Both". */
export function queryType(target: Target): QueryType {
  const range = target.range === true;
  const instant = target.instant === true;
  if (range && instant) return 'both';
  if (instant) return 'instant';
  return 'range';
}

export function withQueryType(target: Target, type: QueryType): Target {
  return { ...target, range: type !== 'instant', instant: type !== 'range' };
}

export const FORMATS = [
  { value: 'time_series', label: 'Time series' },
  { value: 'table', label: 'Table' },
  { value: 'heatmap', label: 'Heatmap' },
] as const;

/**
 * Why a min step (`interval`) will not work, or undefined when it is fine: empty, a duration such
 * as `15s`/`1m30s`/`>10s` (Grafana's "at least"), or a template variable like `$__interval`.
 */
export function minStepProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === '' || /^\$\{?\w+/.test(v)) return undefined;
  if (/^>?(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$/.test(v)) return undefined;
  if (/^>?\d+$/.test(v)) return undefined; // bare seconds
  return `"${v}" is not a duration: write e.g. 15s, 1m or $__interval`;
}

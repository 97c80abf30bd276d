// Query resolution as Grafana computes it: at most one point per pixel of the panel's width, and an
// interval rounded to a "nice" step so that cached results line up between panels and reloads.

/** Nice intervals (ms) and the upper bound of raw intervals that round to each. */
const NICE_INTERVALS: readonly [number, number][] = [
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1500, 1000],
  [3500, 2000],
  [7500, 5000],
  [12500, 10000],
  [17500, 15000],
  [25000, 20000],
  [45000, 30000],
  [90000, 60000],
  [210000, 120000],
  [450000, 300000],
  [750000, 600000],
  [1050000, 900000],
  [1500000, 1200000],
  [2700000, 1800000],
  [5400000, 3600000],
  [9000000, 7200000],
  [16200000, 10800000],
  [32400000, 21600000],
  [86400000, 43200000],
  [604800000, 86400000],
  [1814400000, 604800000],
  [3628800000, 2592000000],
];

const ONE_YEAR = 31536000000;

/** Rounds a raw interval to the nearest nice one (10ms, 20ms, ..., 1m, 2m, 5m, ..., 1d, 1w, 30d, 1y). */
export function roundInterval(ms: number): number {
  for (const [limit, nice] of NICE_INTERVALS) {
    if (ms <= limit) return nice;
  }
  return ONE_YEAR;
}

export interface QueryResolution {
  maxDataPoints: number;
  intervalMs: number;
}

/**
 * maxDataPoints is the panel's width in pixels (or the panel's own `maxDataPoints`), intervalMs the
 * range divided by it, rounded, and never below the panel's minimum interval (`interval`, e.g. `15s`).
 */
export function queryResolution(rangeMs: number, widthPx: number, minIntervalMs = 0, panelMaxDataPoints?: number): QueryResolution {
  const maxDataPoints = Math.max(1, Math.round(panelMaxDataPoints ?? widthPx));
  const raw = rangeMs / maxDataPoints;
  const intervalMs = Math.max(roundInterval(raw), minIntervalMs, 1);
  return { maxDataPoints, intervalMs };
}

const INTERVAL_UNITS: readonly [string, number][] = [
  ['y', ONE_YEAR],
  ['w', 604800000],
  ['d', 86400000],
  ['h', 3600000],
  ['m', 60000],
  ['s', 1000],
];

/** An interval as Grafana writes it: the largest unit that fits, floored (90 s → "1m"; 500 ms → "500ms"). */
export function formatInterval(ms: number): string {
  for (const [unit, size] of INTERVAL_UNITS) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return `${Math.max(1, Math.round(ms))}ms`;
}

/** The value prefix of an interval variable's "auto" option (`$__auto_interval_<name>`, Grafana's). */
export const AUTO_INTERVAL_PREFIX = '$__auto_interval_';

/**
 * An interval variable's "auto" value: the range split into `count` steps (default 30), rounded to a
 * nice interval, never below `minMs` (the variable's auto_min, default 10s).
 */
export function autoInterval(rangeMs: number, count = 30, minMs = 10000): string {
  return formatInterval(Math.max(roundInterval(rangeMs / Math.max(1, count)), minMs));
}

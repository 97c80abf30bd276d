import { describe, expect, it } from 'vitest';
import { describeRange, endOf, formatDateTime, parseDuration, parseTime, resolveRange, startOf, zoomOut } from './time';

// Wednesday 2024-03-13 14:25:36.789 UTC
const NOW = Date.UTC(2024, 2, 13, 14, 25, 36, 789);
const utc = { timeZone: 'utc' as const, now: NOW };

describe('parseTime', () => {
  it('reads now', () => {
    expect(parseTime('now', utc)).toBe(NOW);
  });

  it('subtracts and adds fixed units', () => {
    expect(parseTime('now-6h', utc)).toBe(NOW - 6 * 3600_000);
    expect(parseTime('now-5m', utc)).toBe(NOW - 5 * 60_000);
    expect(parseTime('now+30s', utc)).toBe(NOW + 30_000);
    expect(parseTime('now-1d+2h', utc)).toBe(NOW - 22 * 3600_000);
    expect(parseTime('now-h', utc)).toBe(NOW - 3600_000);
  });

  it('rounds to the start of the unit for from', () => {
    expect(parseTime('now/d', utc)).toBe(Date.UTC(2024, 2, 13));
    expect(parseTime('now/h', utc)).toBe(Date.UTC(2024, 2, 13, 14));
    expect(parseTime('now/M', utc)).toBe(Date.UTC(2024, 2, 1));
    expect(parseTime('now/y', utc)).toBe(Date.UTC(2024, 0, 1));
    // Weeks start on Monday: 2024-03-11.
    expect(parseTime('now/w', utc)).toBe(Date.UTC(2024, 2, 11));
  });

  it('rounds to the end of the unit for to', () => {
    expect(parseTime('now/d', { ...utc, roundUp: true })).toBe(Date.UTC(2024, 2, 14) - 1);
    expect(parseTime('now/M', { ...utc, roundUp: true })).toBe(Date.UTC(2024, 3, 1) - 1);
    expect(parseTime('now/w', { ...utc, roundUp: true })).toBe(Date.UTC(2024, 2, 18) - 1);
  });

  it('reads yesterday as now-1d/d', () => {
    expect(parseTime('now-1d/d', utc)).toBe(Date.UTC(2024, 2, 12));
    expect(parseTime('now-1d/d', { ...utc, roundUp: true })).toBe(Date.UTC(2024, 2, 13) - 1);
  });

  it('adds months and years on the calendar, clamping the day', () => {
    const jan31 = Date.UTC(2024, 0, 31, 10);
    expect(parseTime('now+1M', { timeZone: 'utc', now: jan31 })).toBe(Date.UTC(2024, 1, 29, 10));
    expect(parseTime('now-1y', utc)).toBe(Date.UTC(2023, 2, 13, 14, 25, 36, 789));
    expect(parseTime('now-6M', utc)).toBe(Date.UTC(2023, 8, 13, 14, 25, 36, 789));
  });

  it('reads epoch milliseconds and ISO 8601', () => {
    expect(parseTime('1710340000000')).toBe(1710340000000);
    expect(parseTime('2024-03-13T14:00:00Z')).toBe(Date.UTC(2024, 2, 13, 14));
    expect(parseTime('2024-03-13T14:00:00.000+01:00')).toBe(Date.UTC(2024, 2, 13, 13));
  });

  it('rejects what is not a time', () => {
    expect(parseTime('')).toBeUndefined();
    expect(parseTime('yesterday')).toBeUndefined();
    expect(parseTime('now-6x', utc)).toBeUndefined();
    expect(parseTime('now/5d', utc)).toBeUndefined();
    expect(parseTime('now-', utc)).toBeUndefined();
  });

  it('rounds in the browser zone by default', () => {
    const local = parseTime('now/d', { now: NOW })!;
    const d = new Date(local);
    expect([d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()]).toEqual([0, 0, 0, 0]);
  });
});

describe('startOf and endOf', () => {
  it('bracket the unit', () => {
    expect(startOf(NOW, 'm', 'utc')).toBe(Date.UTC(2024, 2, 13, 14, 25));
    expect(endOf(NOW, 'm', 'utc')).toBe(Date.UTC(2024, 2, 13, 14, 26) - 1);
    expect(endOf(NOW, 'y', 'utc')).toBe(Date.UTC(2025, 0, 1) - 1);
  });
});

describe('resolveRange', () => {
  it('rounds from down and to up', () => {
    expect(resolveRange({ from: 'now/d', to: 'now/d' }, 'utc', NOW)).toEqual({ from: Date.UTC(2024, 2, 13), to: Date.UTC(2024, 2, 14) - 1 });
  });
  it('is undefined when an end is invalid', () => {
    expect(resolveRange({ from: 'nope', to: 'now' }, 'utc', NOW)).toBeUndefined();
  });
});

describe('describeRange', () => {
  it('names quick ranges', () => {
    expect(describeRange({ from: 'now-6h', to: 'now' })).toBe('Last 6 hours');
    expect(describeRange({ from: 'now-1d/d', to: 'now-1d/d' })).toBe('Yesterday');
  });
  it('names other relative ranges', () => {
    expect(describeRange({ from: 'now-4h', to: 'now' })).toBe('Last 4 hours');
    expect(describeRange({ from: 'now-1m', to: 'now' })).toBe('Last 1 minute');
  });
  it('shows absolute ends as dates', () => {
    const from = String(Date.UTC(2024, 2, 13, 10));
    const to = String(Date.UTC(2024, 2, 13, 12));
    expect(describeRange({ from, to }, 'utc')).toBe('2024-03-13 10:00:00 to 2024-03-13 12:00:00');
  });
});

describe('formatDateTime', () => {
  it('pads fields', () => {
    expect(formatDateTime(Date.UTC(2024, 0, 2, 3, 4, 5), 'utc')).toBe('2024-01-02 03:04:05');
  });
});

describe('parseDuration', () => {
  it('reads Grafana intervals', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('x')).toBeUndefined();
  });
});

describe('zoomOut', () => {
  it('doubles the range around its middle', () => {
    expect(zoomOut({ from: 1000, to: 2000 })).toEqual({ from: 500, to: 2500 });
  });
});

import { describe, expect, it } from 'vitest';
import { queryResolution, roundInterval, autoInterval, formatInterval } from './interval';

describe('roundInterval', () => {
  it('rounds to nice steps', () => {
    expect(roundInterval(11)).toBe(10);
    expect(roundInterval(1200)).toBe(1000);
    expect(roundInterval(14000)).toBe(15000);
    expect(roundInterval(70000)).toBe(60000);
    expect(roundInterval(10 * 86400000)).toBe(604800000);
    expect(roundInterval(1e12)).toBe(31536000000);
  });
});

describe('queryResolution', () => {
  it('uses the width as maxDataPoints', () => {
    // 6 hours over 800 px is 27 s a point, rounded to 30 s.
    expect(queryResolution(6 * 3600_000, 800)).toEqual({ maxDataPoints: 800, intervalMs: 30000 });
  });
  it('respects a minimum interval and the panel maxDataPoints', () => {
    expect(queryResolution(3600_000, 1000, 15000)).toEqual({ maxDataPoints: 1000, intervalMs: 15000 });
    expect(queryResolution(3600_000, 1000, 0, 100)).toEqual({ maxDataPoints: 100, intervalMs: 30000 });
  });
});

describe('interval variables', () => {
  it('formats intervals as Grafana writes them', () => {
    expect(formatInterval(500)).toBe('500ms');
    expect(formatInterval(1000)).toBe('1s');
    expect(formatInterval(90000)).toBe('1m');
    expect(formatInterval(7200000)).toBe('2h');
    expect(formatInterval(86400000 * 7)).toBe('1w');
  });
  it('computes the auto option from the range, step count and minimum', () => {
    // 6 h / 30 = 12 min, rounded to 10m.
    expect(autoInterval(6 * 3600000)).toBe('10m');
    // 1 h / 30 = 2 min.
    expect(autoInterval(3600000, 30)).toBe('2m');
    // 5 min / 30 = 10 s, but the minimum is 1m.
    expect(autoInterval(300000, 30, 60000)).toBe('1m');
    expect(autoInterval(7 * 86400000, 100)).toBe('2h');
  });
});

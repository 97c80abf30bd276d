import { describe, expect, it } from 'vitest';
import { queryResolution, roundInterval } from './interval';

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

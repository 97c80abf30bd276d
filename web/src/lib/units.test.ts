import { describe, expect, it } from 'vitest';
import { formatValueText as f, toFixed } from './units';

describe('toFixed', () => {
  it('chooses decimals automatically', () => {
    expect(toFixed(123)).toBe('123');
    expect(toFixed(1.5)).toBe('1.5');
    expect(toFixed(0.012345)).toBe('0.012');
    expect(toFixed(12.3456)).toBe('12');
    expect(toFixed(3.456)).toBe('3.46');
    expect(toFixed(0)).toBe('0');
  });
  it('honours explicit decimals with trailing zeros', () => {
    expect(toFixed(1.5, 2)).toBe('1.50');
    expect(toFixed(2, 1)).toBe('2.0');
    expect(toFixed(3.14159, 0)).toBe('3');
  });
});

describe('formatValue', () => {
  it('short scales by thousands', () => {
    expect(f(999, 'short')).toBe('999');
    expect(f(1500, 'short')).toBe('1.5 K');
    expect(f(2_000_000, 'short')).toBe('2 Mil');
    expect(f(-1500, 'short', 1)).toBe('-1.5 K');
    expect(f(1500)).toBe('1.5 K');
  });
  it('none leaves the number alone', () => {
    expect(f(123456, 'none')).toBe('123456');
  });
  it('percent and percentunit', () => {
    expect(f(42, 'percent')).toBe('42%');
    expect(f(0.425, 'percentunit', 1)).toBe('42.5%');
  });
  it('bytes are IEC, decbytes SI', () => {
    expect(f(1024, 'bytes')).toBe('1 KiB');
    expect(f(1536, 'bytes')).toBe('1.5 KiB');
    expect(f(3 * 1024 ** 3, 'bytes')).toBe('3 GiB');
    expect(f(512, 'bytes')).toBe('512 B');
    expect(f(1000, 'decbytes')).toBe('1 kB');
    expect(f(2_500_000, 'decbytes', 1)).toBe('2.5 MB');
  });
  it('bits and bits per second', () => {
    expect(f(2048, 'bits')).toBe('2 Kib');
    expect(f(10_000_000, 'bps')).toBe('10 Mbps');
    expect(f(999, 'bps')).toBe('999 bps');
  });
  it('seconds climb to larger units and fall to ms', () => {
    expect(f(30, 's')).toBe('30 s');
    expect(f(90, 's')).toBe('1.5 min');
    expect(f(7200, 's')).toBe('2 hour');
    expect(f(0.25, 's')).toBe('250 ms');
    expect(f(86400 * 2, 's')).toBe('2 day');
  });
  it('milliseconds climb to seconds and minutes', () => {
    expect(f(250, 'ms')).toBe('250 ms');
    expect(f(1500, 'ms')).toBe('1.5 s');
    expect(f(120_000, 'ms')).toBe('2 min');
  });
  it('counts per second', () => {
    expect(f(5, 'reqps')).toBe('5 req/s');
    expect(f(1500, 'reqps', 1)).toBe('1.5K req/s');
    expect(f(12, 'ops')).toBe('12 ops/s');
  });
  it('decimals apply to every unit', () => {
    expect(f(1.23456, 'percent', 2)).toBe('1.23%');
    expect(f(1.23456, 'none', 0)).toBe('1');
  });
  it('null values and unknown units', () => {
    expect(f(null, 'bytes')).toBe('-');
    expect(f(3, 'widgets')).toBe('3 widgets');
    expect(f(3, 'suffix:/min')).toBe('3/min');
  });
});

import { describe, expect, it } from 'vitest';
import { parseJsonModel, parseRefreshIntervals, timeError } from './generalModel';

describe('parseRefreshIntervals', () => {
  it('reads a comma separated list', () => {
    expect(parseRefreshIntervals(' 5s, 1m ,, 1h')).toEqual({ intervals: ['5s', '1m', '1h'] });
  });
  it('names the first entry that is not a duration', () => {
    expect(parseRefreshIntervals('5s, soon')).toEqual({ error: expect.stringContaining('"soon"') });
  });
});

describe('timeError', () => {
  it('accepts relative and absolute times', () => {
    expect(timeError('now-6h')).toBeUndefined();
    expect(timeError('now/d')).toBeUndefined();
    expect(timeError('2024-01-01 00:00:00')).toBeUndefined();
  });
  it('refuses empty and unreadable text', () => {
    expect(timeError('')).toBe('Required.');
    expect(timeError('yesterday-ish')).toMatch(/not a time/);
  });
});

describe('parseJsonModel', () => {
  const current = { uid: 'abc', title: 'T' };
  it('returns the parsed dashboard', () => {
    expect(parseJsonModel('{"uid":"abc","title":"New","panels":[]}', current)).toEqual({ dashboard: { uid: 'abc', title: 'New', panels: [] } });
  });
  it('refuses invalid JSON, non-objects, a changed uid and a missing title', () => {
    expect(parseJsonModel('{', current)).toEqual({ error: expect.stringMatching(/^Invalid JSON/) });
    expect(parseJsonModel('[1]', current)).toEqual({ error: expect.stringMatching(/object/) });
    expect(parseJsonModel('{"uid":"other","title":"T"}', current)).toEqual({ error: expect.stringMatching(/uid/) });
    expect(parseJsonModel('{"uid":"abc"}', current)).toEqual({ error: expect.stringMatching(/title/) });
  });
});

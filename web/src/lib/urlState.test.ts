import { describe, expect, it } from 'vitest';
import { parseUrlState, serializeUrlState, updateUrlState } from './urlState';

describe('parseUrlState', () => {
  it('reads Grafana parameters', () => {
    const s = parseUrlState('?orgId=1&from=now-6h&to=now&var-job=node&var-instance=a&var-instance=b&refresh=30s&viewPanel=4&kiosk');
    expect(s.from).toBe('now-6h');
    expect(s.to).toBe('now');
    expect(s.variables).toEqual({ job: ['node'], instance: ['a', 'b'] });
    expect(s.refresh).toBe('30s');
    expect(s.viewPanel).toBe('4');
    expect(s.kiosk).toBe(true);
    expect(s.other).toEqual([['orgId', '1']]);
  });
  it('reads kiosk modes and special values', () => {
    expect(parseUrlState('kiosk=tv').kiosk).toBe('tv');
    expect(parseUrlState('kiosk=1').kiosk).toBe(true);
    expect(parseUrlState('').kiosk).toBeUndefined();
    expect(parseUrlState('var-x=$__all&var-y=a%20b%2Cc').variables).toEqual({ x: ['$__all'], y: ['a b,c'] });
  });
  it('reads the editing parameters', () => {
    const s = parseUrlState('editPanel=3&editview=settings&inspect=2&inspectTab=json');
    expect([s.editPanel, s.editview, s.inspect, s.inspectTab]).toEqual(['3', 'settings', '2', 'json']);
    expect(s.other).toEqual([]);
    expect(serializeUrlState(s)).toBe('editPanel=3&editview=settings&inspect=2&inspectTab=json');
  });
  it('keeps an empty variable value', () => {
    expect(parseUrlState('var-q=').variables).toEqual({ q: [''] });
  });
});

describe('serializeUrlState', () => {
  it('round-trips', () => {
    const queries = [
      'orgId=1&from=now-6h&to=now&var-job=node&var-instance=a&var-instance=b&refresh=30s&viewPanel=4&kiosk',
      'from=1710000000000&to=1710003600000',
      'from=now-1h&to=now&timezone=utc&var-a=1',
      'var-x=%24__all&kiosk=tv',
      'from=now%2Fd&to=now%2Fd&var-q=',
    ];
    for (const q of queries) {
      expect(serializeUrlState(parseUrlState(q))).toBe(q);
    }
  });
  it('round-trips the state object', () => {
    const state = parseUrlState('from=now-1d%2Fd&to=now-1d%2Fd&var-a=1&var-a=2&var-b=x%26y');
    expect(parseUrlState(serializeUrlState(state))).toEqual(state);
  });
});

describe('updateUrlState', () => {
  it('replaces one variable and keeps the rest', () => {
    const s = updateUrlState(parseUrlState('from=now-1h&var-a=1&var-b=2'), { variables: { a: ['3', '4'] }, from: 'now-5m' });
    expect(serializeUrlState(s)).toBe('from=now-5m&var-a=3&var-a=4&var-b=2');
  });
});

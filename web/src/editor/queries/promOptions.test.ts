import { describe, expect, it } from 'vitest';
import { LEGEND_AUTO, legendFormatFor, legendMode, minStepProblem, queryType, withQueryType } from './promOptions';

describe('legend', () => {
  it('reads Grafana legend modes', () => {
    expect(legendMode({ legendFormat: '__auto' })).toBe('auto');
    expect(legendMode({})).toBe('verbose');
    expect(legendMode({ legendFormat: '' })).toBe('verbose');
    expect(legendMode({ legendFormat: '{{job}}' })).toBe('custom');
  });
  it('stores each mode as Grafana does', () => {
    expect(legendFormatFor('auto', {})).toBe(LEGEND_AUTO);
    expect(legendFormatFor('verbose', { legendFormat: '{{job}}' })).toBe('');
    expect(legendFormatFor('custom', { legendFormat: '{{job}}' })).toBe('{{job}}');
    expect(legendFormatFor('custom', { legendFormat: '__auto' })).toBe('{{label_name}}');
  });
});

describe('query type', () => {
  it('reads range, instant and both', () => {
    expect(queryType({})).toBe('range');
    expect(queryType({ range: true, instant: false })).toBe('range');
    expect(queryType({ instant: true })).toBe('instant');
    expect(queryType({ range: true, instant: true })).toBe('both');
  });
  it('writes both flags and keeps the rest', () => {
    expect(withQueryType({ refId: 'A', x: 1 }, 'instant')).toEqual({ refId: 'A', x: 1, range: false, instant: true });
    expect(withQueryType({}, 'range')).toEqual({ range: true, instant: false });
    expect(withQueryType({}, 'both')).toEqual({ range: true, instant: true });
  });
});

describe('min step', () => {
  it('accepts durations and variables', () => {
    for (const ok of ['', '15s', '1m30s', '>10s', '500ms', '$__interval', '${step}', '30']) expect(minStepProblem(ok)).toBeUndefined();
  });
  it('explains what is wrong', () => {
    expect(minStepProblem('ten seconds')).toMatch(/not a duration/);
    expect(minStepProblem('15x')).toMatch(/15x/);
  });
});

import { describe, expect, it } from 'vitest';
import { formatMatcher, fromObjectMatcher, fromSilenceMatcher, matcherProblem, parseMatcher, toObjectMatcher, toSilenceMatcher, type Matcher } from './matchers';

describe('parseMatcher', () => {
  it('reads each operator', () => {
    expect(parseMatcher('alertname=Disk')).toEqual({ name: 'alertname', operator: '=', value: 'Disk' });
    expect(parseMatcher('team!=ops')).toEqual({ name: 'team', operator: '!=', value: 'ops' });
    expect(parseMatcher('team=~ops|dev')).toEqual({ name: 'team', operator: '=~', value: 'ops|dev' });
    expect(parseMatcher('team!~"ops.*"')).toEqual({ name: 'team', operator: '!~', value: 'ops.*' });
  });

  it('allows spaces around the operator and unquotes with escapes', () => {
    expect(parseMatcher(' severity = "very \\"bad\\", really" ')).toEqual({ name: 'severity', operator: '=', value: 'very "bad", really' });
    expect(parseMatcher('empty=""')).toEqual({ name: 'empty', operator: '=', value: '' });
    expect(parseMatcher('empty=')).toEqual({ name: 'empty', operator: '=', value: '' });
  });

  it('keeps an = inside the value', () => {
    expect(parseMatcher('query=a=b')).toEqual({ name: 'query', operator: '=', value: 'a=b' });
  });

  it('refuses text that is not a matcher', () => {
    expect(() => parseMatcher('alertname')).toThrow(/not a matcher/);
    expect(() => parseMatcher('=x')).toThrow(/not a matcher/);
    expect(() => parseMatcher('9lives=x')).toThrow(/not a label name/);
    expect(() => parseMatcher('a!x')).toThrow(/no operator/);
  });
});

describe('formatMatcher', () => {
  it('quotes values that need it and round-trips through parseMatcher', () => {
    const cases: Matcher[] = [
      { name: 'a', operator: '=', value: 'plain' },
      { name: 'b', operator: '!=', value: '' },
      { name: 'c', operator: '=~', value: 'x y' },
      { name: 'd', operator: '!~', value: 'say "hi", \\o/' },
    ];
    expect(cases.map(formatMatcher)).toEqual(['a=plain', 'b!=""', 'c=~"x y"', 'd!~"say \\"hi\\", \\\\o/"']);
    for (const m of cases) expect(parseMatcher(formatMatcher(m))).toEqual(m);
  });
});

describe('matcher shapes', () => {
  it('maps to and from object_matchers entries', () => {
    expect(toObjectMatcher({ name: 'team', operator: '=~', value: 'ops' })).toEqual(['team', '=~', 'ops']);
    expect(fromObjectMatcher(['team', '!=', 'ops'])).toEqual({ name: 'team', operator: '!=', value: 'ops' });
  });

  it('maps to and from Alertmanager silence matchers', () => {
    const ops = ['=', '!=', '=~', '!~'] as const;
    const shapes = ops.map((operator) => toSilenceMatcher({ name: 'n', operator, value: 'v' }));
    expect(shapes.map((s) => [s.isEqual, s.isRegex])).toEqual([
      [true, false],
      [false, false],
      [true, true],
      [false, true],
    ]);
    expect(shapes.map(fromSilenceMatcher).map((m) => m.operator)).toEqual(ops);
  });
});

describe('matcherProblem', () => {
  it('names a missing or bad label and a bad regular expression', () => {
    expect(matcherProblem({ name: '', operator: '=', value: 'x' })).toMatch(/needs a label name/);
    expect(matcherProblem({ name: 'a-b', operator: '=', value: 'x' })).toMatch(/not a label name/);
    expect(matcherProblem({ name: 'a', operator: '=~', value: '(' })).toMatch(/not a regular expression/);
    expect(matcherProblem({ name: 'a', operator: '=', value: '(' })).toBeUndefined();
  });
});

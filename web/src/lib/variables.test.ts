import { describe, expect, it } from 'vitest';
import { ALL_VALUE, customOptions, interpolateDisplay, dependencyOrder, dependents, initialSelection, pickSelection, referencedNames, requestValue, selectionText, type VariableModel } from './variables';

const v = (name: string, query = '', extra: Partial<VariableModel> = {}): VariableModel => ({ name, type: 'query', query, ...extra });

describe('referencedNames', () => {
  it('finds every reference syntax', () => {
    expect([...referencedNames('up{job="$job", instance=~"${instance:regex}"} [[node]] ${x}')]).toEqual(['job', 'instance', 'node', 'x']);
  });
});

describe('dependencyOrder', () => {
  it('puts a variable after those it references', () => {
    const vars = [v('instance', 'label_values(up{job="$job"}, instance)'), v('job', 'label_values(up, job)'), v('ds', '', { type: 'datasource' })];
    expect(dependencyOrder(vars).map((x) => x.name)).toEqual(['job', 'instance', 'ds']);
  });
  it('follows datasource references and tolerates cycles', () => {
    const vars = [v('a', '$b'), v('b', '$a'), v('c', 'x', { datasource: { uid: '${ds}' } }), v('ds')];
    expect(dependencyOrder(vars).map((x) => x.name)).toEqual(['b', 'a', 'ds', 'c']);
  });
  it('lists transitive dependents', () => {
    const vars = [v('job', 'j'), v('instance', '$job'), v('cpu', '$instance'), v('other', 'o')];
    expect(dependents('job', vars)).toEqual(['instance', 'cpu']);
  });
});

describe('customOptions', () => {
  it('splits on commas, honouring escapes and text : value pairs', () => {
    expect(customOptions('a, b,c\\,d')).toEqual([
      { text: 'a', value: 'a' },
      { text: 'b', value: 'b' },
      { text: 'c,d', value: 'c,d' },
    ]);
    expect(customOptions('Prod : prod-1, Dev : dev-1')).toEqual([
      { text: 'Prod', value: 'prod-1' },
      { text: 'Dev', value: 'dev-1' },
    ]);
  });
});

describe('selection', () => {
  const options = [
    { text: 'A', value: 'a' },
    { text: 'B', value: 'b' },
  ];
  it('keeps wanted values that exist, else the first option', () => {
    expect(pickSelection(options, ['b'], {})).toEqual(['b']);
    expect(pickSelection(options, ['zz'], {})).toEqual(['a']);
    expect(pickSelection(options, ['a', 'b'], { multi: true })).toEqual(['a', 'b']);
    expect(pickSelection(options, ['a', 'b'], { multi: false })).toEqual(['a']);
    expect(pickSelection(options, [ALL_VALUE], { includeAll: true })).toEqual([ALL_VALUE]);
    expect(pickSelection([], ['x'], {})).toEqual([]);
  });
  it('prefers the URL over the saved current value', () => {
    const model = v('x', '', { current: { value: 'saved' } });
    expect(initialSelection(model, ['url'])).toEqual(['url']);
    expect(initialSelection(model, undefined)).toEqual(['saved']);
  });
  it('expands All for requests', () => {
    expect(requestValue(v('x', '', { includeAll: true, multi: true }), [ALL_VALUE], options)).toEqual(['a', 'b']);
    expect(requestValue(v('x', '', { includeAll: true, allValue: '.*' }), [ALL_VALUE], options)).toBe('.*');
    expect(requestValue(v('x'), ['b'], options)).toBe('b');
    expect(requestValue(v('x', '', { multi: true }), ['a', 'b'], options)).toEqual(['a', 'b']);
  });
  it('describes the selection', () => {
    expect(selectionText(['a', 'b'], options)).toBe('A + B');
    expect(selectionText([ALL_VALUE], options)).toBe('All');
  });
});

describe('interpolateDisplay', () => {
  it('fills references for titles and leaves unknown ones', () => {
    expect(interpolateDisplay('CPU $instance (${job}) [[x]] $nope', { instance: ['a', 'b'], job: 'node', x: '1' })).toBe('CPU a, b (node) 1 $nope');
  });
});

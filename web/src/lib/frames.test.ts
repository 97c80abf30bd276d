import { describe, expect, it } from 'vitest';
import { alignSeries, displayName, formatLabels, frameToTable, framesToSeries, lastValue, reduce, stackColumns, type DataFrame, shareOfGroup } from './frames';

const frame = (fields: DataFrame['schema'], values: unknown[][]): DataFrame => ({ schema: fields, data: { values } });

describe('frames', () => {
  it('names series by displayNameFromDS, frame name, labels, then field name', () => {
    const f = frame({ fields: [] }, []);
    expect(displayName({ name: 'Value', config: { displayNameFromDS: 'cpu' } }, f, 2)).toBe('cpu');
    expect(displayName({ name: 'Value' }, { schema: { name: 'A-series', fields: [] } }, 1)).toBe('A-series');
    expect(displayName({ name: 'Value', labels: { __name__: 'up', job: 'node' } }, f, 2)).toBe('up{job="node"}');
    expect(displayName({ name: 'Value' }, f, 2)).toBe('Value');
  });
  it('formats labels', () => {
    expect(formatLabels({ job: 'a', instance: 'b' })).toBe('{job="a", instance="b"}');
    expect(formatLabels({ __name__: 'up' })).toBe('up');
  });
  it('turns frames into series and skips frames without time', () => {
    const series = framesToSeries([
      frame({ refId: 'A', fields: [{ name: 'Time', type: 'time' }, { name: 'Value', type: 'number', labels: { job: 'x' } }] }, [[1, 2], [5, null]]),
      frame({ fields: [{ name: 'name', type: 'string' }] }, [['a']]),
    ]);
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ name: '{job="x"}', times: [1, 2], values: [5, null], refId: 'A' });
  });
  it('finds the last value', () => {
    expect(lastValue([1, 2, null])).toBe(2);
    expect(lastValue([null])).toBeNull();
  });
  it('aligns series with different timestamps', () => {
    const base = { config: {}, labels: {}, refId: 'A', name: 's' };
    const aligned = alignSeries([
      { ...base, times: [1, 3], values: [10, 30] },
      { ...base, times: [2, 3], values: [20, 31] },
    ]);
    expect(aligned).toEqual({ times: [1, 2, 3], columns: [[10, null, 30], [null, 20, 31]] });
  });
  it('makes table rows', () => {
    expect(frameToTable(frame({ fields: [{ name: 'a' }, { name: 'b' }] }, [[1, 2], ['x', 'y']])).rows).toEqual([[1, 'x'], [2, 'y']]);
  });
});

describe('display name templates and reducers', () => {
  it('fills field templates', () => {
    const f: DataFrame = { schema: { name: 'frame', fields: [] } };
    expect(displayName({ name: 'Value', labels: { instance: 'a:1' } }, f, 2, '${__field.labels.instance}')).toBe('a:1');
    expect(displayName({ name: 'Value', labels: { instance: 'a' } }, f, 2, 'x ${__field.name} ${__series.name}')).toBe('x Value frame');
  });
  it('reduces', () => {
    expect(reduce([1, 5, null], 'lastNotNull')).toBe(5);
    expect(reduce([1, 5, null], 'last')).toBeNull();
    expect(reduce([1, 5, 3], 'mean')).toBe(3);
    expect(reduce([1, 5, 3], 'max')).toBe(5);
    expect(reduce([1, 5, 3], 'min')).toBe(1);
    expect(reduce([1, 5, 3], 'sum')).toBe(9);
    expect(reduce([], 'mean')).toBeNull();
  });
});

describe('stackColumns', () => {
  it('sums columns of the same group and leaves others alone', () => {
    const { stacked, below } = stackColumns(
      [
        [1, 2, null],
        [10, null, 30],
        [100, 200, 300],
        [5, 5, 5],
      ],
      ['A', 'A', 'A', undefined],
    );
    expect(stacked).toEqual([
      [1, 2, null],
      [11, null, 30],
      [111, 202, 330],
      [5, 5, 5],
    ]);
    expect(below).toEqual([-1, 0, 1, -1]);
  });
});

describe('shareOfGroup', () => {
  it('turns each stacked value into its share of the group total', () => {
    const out = shareOfGroup(
      [
        [1, 2, null, 0],
        [3, 2, 5, 0],
        [7, 7, 7, 7],
      ],
      ['A', 'A', undefined],
    );
    expect(out).toEqual([
      [0.25, 0.5, null, 0],
      [0.75, 0.5, 1, 0],
      [7, 7, 7, 7],
    ]);
  });
});

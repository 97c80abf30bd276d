import { describe, expect, it } from 'vitest';
import { matches, seriesScale, seriesStyle, type Override } from './overrides';

describe('matches', () => {
  it('matches by name, regex, names list and refId', () => {
    expect(matches({ id: 'byName', options: 'Total' }, 'Total', 'A')).toBe(true);
    expect(matches({ id: 'byName', options: 'Total' }, 'Totals', 'A')).toBe(false);
    expect(matches({ id: 'byRegexp', options: '/.*Tx.*/' }, 'Tx eth0', 'A')).toBe(true);
    expect(matches({ id: 'byRegexp', options: '/.*Tx.*/' }, 'Rx eth0', 'A')).toBe(false);
    expect(matches({ id: 'byRegexp', options: '/[/' }, 'x', 'A')).toBe(false);
    expect(matches({ id: 'byNames', options: { mode: 'exclude', names: ['Virtual Memory'] } }, 'Other', 'A')).toBe(true);
    expect(matches({ id: 'byNames', options: { mode: 'exclude', names: ['Virtual Memory'] } }, 'Virtual Memory', 'A')).toBe(false);
    expect(matches({ id: 'byFrameRefID', options: 'B' }, 'x', 'B')).toBe(true);
  });
});

describe('seriesStyle', () => {
  const overrides: Override[] = [
    { matcher: { id: 'byRegexp', options: '/.*Tx.*/' }, properties: [{ id: 'custom.transform', value: 'negative-Y' }] },
    { matcher: { id: 'byName', options: 'Tx eth0' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'dark-red' } }, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] },
    { matcher: { id: 'byName', options: 'Total' }, properties: [{ id: 'custom.stacking', value: { group: false, mode: 'normal' } }, { id: 'custom.hideFrom', value: { viz: false, legend: true } }, { id: 'displayName', value: 'All' }] },
  ];
  it('merges every matching override', () => {
    expect(seriesStyle(overrides, 'Tx eth0', 'A')).toEqual({ negativeY: true, color: '#C4162A', dash: [10, 10] });
    expect(seriesStyle(overrides, 'Total', 'A')).toEqual({ stackGroup: false, hideFromViz: false, hideFromLegend: true, hideFromTooltip: false, displayName: 'All' });
    expect(seriesStyle(overrides, 'Rx eth0', 'A')).toEqual({});
  });
});

describe('seriesScale', () => {
  it('gives a series an axis of its own by placement or by a unit of its own', () => {
    const right = seriesStyle([{ matcher: { id: 'byName', options: 'temp' }, properties: [{ id: 'custom.axisPlacement', value: 'right' }] }], 'temp', 'A');
    expect(right.axisPlacement).toBe('right');
    expect(seriesScale(right, 'bytes', 'left')).toEqual({ key: 'y-right-bytes', side: 'right', unit: 'bytes' });
    expect(seriesScale(right, 'bytes', 'right').key).toBe('y');
    expect(seriesScale({ unit: 'celsius' }, 'bytes', 'left')).toEqual({ key: 'y-right-celsius', side: 'right', unit: 'celsius' });
    expect(seriesScale({ unit: 'celsius', axisPlacement: 'left' }, 'bytes', 'left')).toEqual({ key: 'y-left-celsius', side: 'left', unit: 'celsius' });
    expect(seriesScale({ unit: 'bytes' }, 'bytes', 'left').key).toBe('y');
    expect(seriesScale({ unit: 'short' }, undefined, 'left').key).toBe('y');
    expect(seriesScale({}, 'bytes', 'left')).toEqual({ key: 'y', side: 'left', unit: 'bytes' });
  });
});

import { describe, expect, it } from 'vitest';
import { matches, seriesStyle, type Override } from './overrides';

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

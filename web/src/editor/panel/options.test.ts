import { describe, expect, it } from 'vitest';
import type { PanelModel } from '../../dashboard/model';
import { getOption, numberOption, setOption, textOption } from './options';

const panel: PanelModel = { id: 1, type: 'timeseries', title: 'CPU', fieldConfig: { defaults: { unit: 'short', custom: { lineWidth: 1 } }, overrides: [] }, options: { legend: { displayMode: 'list' } } };

describe('getOption', () => {
  it('reads nested values and misses', () => {
    expect(getOption(panel, 'fieldConfig.defaults.unit')).toBe('short');
    expect(getOption(panel, 'options.legend.displayMode')).toBe('list');
    expect(getOption(panel, 'options.tooltip.mode')).toBeUndefined();
    expect(getOption(panel, 'title.length')).toBeUndefined();
  });
});

describe('setOption', () => {
  it('sets a nested value without touching the original', () => {
    const next = setOption(panel, 'fieldConfig.defaults.unit', 'bytes');
    expect(next.fieldConfig?.defaults?.unit).toBe('bytes');
    expect(panel.fieldConfig?.defaults?.unit).toBe('short');
    expect(next.fieldConfig?.defaults?.custom).toBe(panel.fieldConfig?.defaults?.custom);
    expect(next.fieldConfig?.overrides).toBe(panel.fieldConfig?.overrides);
  });

  it('creates missing objects on the way', () => {
    const next = setOption({ id: 2, type: 'stat' }, 'options.reduceOptions.calcs', ['mean']);
    expect(next.options).toEqual({ reduceOptions: { calcs: ['mean'] } });
  });

  it('removes a key for undefined, and creates nothing for it', () => {
    expect(setOption(panel, 'fieldConfig.defaults.unit', undefined).fieldConfig?.defaults).toEqual({ custom: { lineWidth: 1 } });
    expect(setOption({ id: 2, type: 'stat' }, 'options.colorMode', undefined)).toEqual({ id: 2, type: 'stat' });
  });

  it('sets top-level keys', () => {
    expect(setOption(panel, 'title', 'Memory').title).toBe('Memory');
    expect(setOption(panel, 'transparent', true).transparent).toBe(true);
  });

  it('replaces a non-object on the way', () => {
    const odd = { id: 3, type: 'text', options: 'x' } as unknown as PanelModel;
    expect(setOption(odd, 'options.mode', 'html').options).toEqual({ mode: 'html' });
  });
});

describe('input values', () => {
  it('reads numbers and clears on empty or garbage', () => {
    expect(numberOption('12.5')).toBe(12.5);
    expect(numberOption('0')).toBe(0);
    expect(numberOption('')).toBeUndefined();
    expect(numberOption('abc')).toBeUndefined();
    expect(textOption('')).toBeUndefined();
    expect(textOption('x')).toBe('x');
  });
});

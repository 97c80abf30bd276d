import { describe, expect, it } from 'vitest';
import { formatValueText } from '../../lib/units';
import { searchUnits, UNIT_OPTIONS, unitLabel } from './unitOptions';

describe('unit options', () => {
  it('offers only units the formatter knows', () => {
    // An unknown id falls back to "value id"; a known one never ends with its own id.
    for (const u of UNIT_OPTIONS.filter((u) => u.id !== 'none' && u.id !== 'short')) {
      expect(formatValueText(1234, u.id).endsWith(` ${u.id}`), u.id).toBe(false);
    }
  });

  it('searches ids, names and groups', () => {
    expect(searchUnits('bytes').map((u) => u.id)).toContain('bytes');
    expect(searchUnits('data rate sec').map((u) => u.id)).toEqual(['bps', 'Bps', 'binbps', 'binBps']);
    expect(searchUnits('')).toHaveLength(UNIT_OPTIONS.length);
    expect(searchUnits('nothing-like-this')).toEqual([]);
  });

  it('labels known and custom units', () => {
    expect(unitLabel('s')).toBe('seconds (s)');
    expect(unitLabel('widgets')).toBe('widgets');
    expect(unitLabel(undefined)).toBe('');
  });
});

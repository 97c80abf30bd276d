import { describe, expect, it } from 'vitest';
import type { PanelModel } from './model';
import { removeRow, rowPanelCount } from './rowEdit';

const p = (id: number, type = 'stat', extra: Partial<PanelModel> = {}): PanelModel => ({ id, type, ...extra });
const ids = (list: PanelModel[]) => list.map((x) => x.id);

describe('removeRow', () => {
  const expanded = [p(1), p(2, 'row'), p(3), p(4), p(5, 'row'), p(6)];
  const collapsed = [p(1), p(2, 'row', { collapsed: true, panels: [p(3), p(4)] }), p(5, 'row'), p(6)];

  it('counts a row panels', () => {
    expect(rowPanelCount(expanded, 2)).toBe(2);
    expect(rowPanelCount(collapsed, 2)).toBe(2);
    expect(rowPanelCount(expanded, 5)).toBe(1);
    expect(rowPanelCount(expanded, 99)).toBe(0);
  });

  it('removes an expanded row alone or with its panels', () => {
    expect(ids(removeRow(expanded, 2, false))).toEqual([1, 3, 4, 5, 6]);
    expect(ids(removeRow(expanded, 2, true))).toEqual([1, 5, 6]);
    expect(ids(removeRow(expanded, 5, true))).toEqual([1, 2, 3, 4]);
  });

  it('takes a collapsed row panels out, or away with it', () => {
    expect(ids(removeRow(collapsed, 2, false))).toEqual([1, 3, 4, 5, 6]);
    expect(ids(removeRow(collapsed, 2, true))).toEqual([1, 5, 6]);
  });

  it('ignores what is not a row', () => {
    expect(ids(removeRow(expanded, 3, true))).toEqual(ids(expanded));
  });
});

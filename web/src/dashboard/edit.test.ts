import { describe, expect, it } from 'vitest';
import { addPanel, addRow, applyGridLayout, duplicatePanel, editableDashboard, nextPanelId, removePanel, updatePanel } from './edit';
import type { PanelModel } from './model';

const p = (id: number, x: number, y: number, w = 12, h = 8, extra: Partial<PanelModel> = {}): PanelModel => ({ id, type: 'timeseries', gridPos: { x, y, w, h }, ...extra });
const row = (id: number, y: number, extra: Partial<PanelModel> = {}): PanelModel => ({ id, type: 'row', gridPos: { x: 0, y, w: 24, h: 1 }, ...extra });

describe('nextPanelId', () => {
  it('counts panels inside collapsed rows', () => {
    expect(nextPanelId([p(1, 0, 0), row(2, 8, { collapsed: true, panels: [p(9, 0, 9)] })])).toBe(10);
    expect(nextPanelId([])).toBe(1);
  });
});

describe('addPanel and addRow', () => {
  it('puts the new panel at the top and pushes the rest down by its height', () => {
    const { panels, id } = addPanel([p(1, 0, 0), p(2, 12, 0, 12, 4)]);
    expect(id).toBe(3);
    expect(panels[0]).toMatchObject({ id: 3, type: 'timeseries', gridPos: { x: 0, y: 0, w: 12, h: 8 } });
    expect(panels.slice(1).map((q) => q.gridPos?.y)).toEqual([8, 8]);
  });
  it('adds an expanded row one unit high', () => {
    const { panels, id } = addRow([p(1, 0, 0)]);
    expect(panels[0]).toMatchObject({ id, type: 'row', collapsed: false, gridPos: { y: 0, h: 1, w: 24 } });
    expect(panels[1].gridPos?.y).toBe(1);
  });
});

describe('updatePanel, removePanel, duplicatePanel', () => {
  const panels = [p(1, 0, 0), row(2, 8, { collapsed: true, panels: [p(3, 0, 9, 6)] })];
  it('finds panels inside collapsed rows', () => {
    const updated = updatePanel(panels, 3, (q) => ({ ...q, title: 'inner' }));
    expect(updated[1].panels?.[0].title).toBe('inner');
    expect(panels[1].panels?.[0].title).toBeUndefined();
    expect(removePanel(panels, 3)[1].panels).toEqual([]);
    expect(removePanel(panels, 1).map((q) => q.id)).toEqual([2]);
  });
  it('places a copy to the right when it fits, else below, with a fresh id', () => {
    const right = duplicatePanel(panels, 3);
    expect(right.id).toBe(4);
    expect(right.panels[1].panels?.[1]).toMatchObject({ id: 4, gridPos: { x: 6, y: 9, w: 6 } });
    const below = duplicatePanel([p(1, 12, 0)], 1);
    expect(below.panels[1]).toMatchObject({ id: 2, gridPos: { x: 12, y: 8 } });
    expect(duplicatePanel(panels, 2).id).toBeUndefined();
  });
  it('drops a repeated copy\'s scoped variables', () => {
    const copy = duplicatePanel([p(1, 0, 0, 12, 8, { scopedVars: { x: '1' }, repeat: 'x' })], 1).panels[1];
    expect(copy.scopedVars).toBeUndefined();
    expect(copy.repeat).toBe('x');
  });
});

describe('applyGridLayout', () => {
  it('writes positions and reorders so a panel dragged under a row joins it', () => {
    const panels = [p(1, 0, 0), row(2, 8), p(3, 0, 9)];
    const out = applyGridLayout(panels, [
      { i: '1', x: 0, y: 9, w: 12, h: 8 },
      { i: '2', x: 0, y: 0, w: 24, h: 1 },
      { i: '3', x: 0, y: 1, w: 24, h: 8 },
    ]);
    expect(out.map((q) => q.id)).toEqual([2, 3, 1]);
    expect(out[1].gridPos).toEqual({ x: 0, y: 1, w: 24, h: 8 });
  });
  it('keeps panels the grid did not show right after their row', () => {
    const panels = [row(1, 0), p(2, 0, 1), row(3, 9), p(4, 0, 10)];
    // Row 1 is closed on screen: panel 2 is not in the layout.
    const out = applyGridLayout(panels, [
      { i: '1', x: 0, y: 2, w: 24, h: 1 },
      { i: '3', x: 0, y: 0, w: 24, h: 1 },
      { i: '4', x: 0, y: 1, w: 12, h: 1 },
    ]);
    expect(out.map((q) => q.id)).toEqual([3, 4, 1, 2]);
  });
});

describe('editableDashboard', () => {
  it('turns legacy rows into panels once', () => {
    const d = editableDashboard({ uid: 'u', title: 't', rows: [{ panels: [{ id: 1, type: 'graph', span: 6 } as PanelModel] }] });
    expect(d.rows).toBeUndefined();
    expect(d.panels?.[0]).toMatchObject({ id: 1, gridPos: { x: 0, w: 12 } });
    const modern = { uid: 'u', title: 't', panels: [] };
    expect(editableDashboard(modern)).toBe(modern);
  });
});

import { describe, expect, it } from 'vitest';
import { compactUp, expandRepeats, expandRowRepeats, collapsedRows, findPanel, groupByRow, layoutItems, panelsFromLegacyRows } from './layout';
import type { PanelModel } from './model';

const p = (id: number, y: number, h = 4, extra: Partial<PanelModel> = {}): PanelModel => ({ id, type: 'timeseries', gridPos: { x: 0, y, w: 12, h }, ...extra });
const row = (id: number, y: number, collapsed = false, panels: PanelModel[] = []): PanelModel => ({ id, type: 'row', collapsed, panels, gridPos: { x: 0, y, w: 24, h: 1 } });

describe('groupByRow', () => {
  it('gives open rows the panels after them and collapsed rows their own', () => {
    const groups = groupByRow([p(1, 0), row(2, 4), p(3, 5), row(4, 9, true, [p(5, 10)])]);
    expect(groups.map((g) => [g.row?.id, g.panels.map((x) => x.id)])).toEqual([
      [undefined, [1]],
      [2, [3]],
      [4, [5]],
    ]);
  });
});

describe('layoutItems', () => {
  const panels = [p(1, 0), row(2, 4), p(3, 5, 6), row(4, 11, true, [p(5, 30, 8)]), row(6, 12), p(7, 13)];
  const groups = groupByRow(panels);

  it('keeps the saved positions when rows are as saved', () => {
    const items = layoutItems(groups, collapsedRows(panels, new Set()));
    expect(items.map((i) => [i.key, i.pos.y])).toEqual([
      ['1', 0],
      ['2', 4],
      ['3', 5],
      ['4', 11],
      ['6', 12],
      ['7', 13],
    ]);
    expect(items.find((i) => i.key === '4')).toMatchObject({ collapsed: true, childCount: 1 });
  });

  it('opening a collapsed row places its panels under it and pushes the rest down', () => {
    const items = layoutItems(groups, new Set());
    expect(items.map((i) => [i.key, i.pos.y])).toEqual([
      ['1', 0],
      ['2', 4],
      ['3', 5],
      ['4', 11],
      ['5', 12],
      ['6', 20],
      ['7', 21],
    ]);
  });

  it('closing an open row hides its panels and pulls the rest up', () => {
    const items = layoutItems(groups, new Set([2, 4]));
    expect(items.map((i) => [i.key, i.pos.y])).toEqual([
      ['1', 0],
      ['2', 4],
      ['4', 5],
      ['6', 6],
      ['7', 7],
    ]);
  });

  it('starts rows as saved and flips the ones toggled on screen', () => {
    expect([...collapsedRows(panels, new Set())]).toEqual([4]);
    expect([...collapsedRows(panels, new Set([4, 6]))]).toEqual([6]);
  });

  it('closes gaps inside a row as Grafana\'s grid does', () => {
    // A collapsed row whose panels kept positions from far down the dashboard (y 21 and 433).
    const gappy = [row(1, 0, true, [p(2, 21, 8), { id: 3, type: 'stat', gridPos: { x: 12, y: 21, w: 12, h: 4 } }, p(4, 433, 8)])];
    const items = layoutItems(groupByRow(gappy), new Set());
    expect(items.map((i) => [i.key, i.pos.x, i.pos.y])).toEqual([
      ['1', 0, 0],
      ['2', 0, 1],
      ['3', 12, 1],
      ['4', 0, 9],
    ]);
  });

  it('clamps positions into 24 columns', () => {
    const items = layoutItems(groupByRow([{ id: 1, type: 'stat', gridPos: { x: 20, y: 0, w: 30, h: 3 } }]), new Set());
    expect(items[0].pos).toEqual({ x: 0, y: 0, w: 24, h: 3 });
  });
});

describe('findPanel', () => {
  it('looks inside collapsed rows', () => {
    expect(findPanel([row(1, 0, true, [p(9, 1)])], 9)?.id).toBe(9);
  });
});

describe('panelsFromLegacyRows', () => {
  it('places spans on the 24-column grid and makes titled rows row panels', () => {
    const panels = panelsFromLegacyRows([
      { title: 'A', height: '300px', panels: [{ id: 1, type: 'graph', span: 6 }, { id: 2, type: 'graph', span: 6 }, { id: 3, type: 'singlestat', span: 4 }] },
      { title: 'B', height: 150, collapse: true, panels: [{ id: 4, type: 'graph', span: 12 }] },
    ]);
    expect(panels.map((p) => [p.id, p.type, p.gridPos])).toEqual([
      [5, 'row', { x: 0, y: 0, w: 24, h: 1 }],
      [1, 'graph', { x: 0, y: 1, w: 12, h: 10 }],
      [2, 'graph', { x: 12, y: 1, w: 12, h: 10 }],
      [3, 'singlestat', { x: 0, y: 11, w: 8, h: 10 }],
      [6, 'row', { x: 0, y: 21, w: 24, h: 1 }],
    ]);
    expect(panels[4].panels?.map((p) => p.gridPos)).toEqual([{ x: 0, y: 22, w: 24, h: 5 }]);
  });
});

describe('expandRepeats', () => {
  it('copies a panel per value side by side and moves what is below', () => {
    const panels = expandRepeats([{ ...p(1, 0, 4), repeat: 'host', maxPerRow: 2 }, p(2, 4)], (n) => (n === 'host' ? ['a', 'b', 'c'] : undefined));
    expect(panels.map((x) => [x.id, x.gridPos, x.scopedVars])).toEqual([
      [1, { x: 0, y: 0, w: 12, h: 4 }, { host: 'a' }],
      [1001, { x: 12, y: 0, w: 12, h: 4 }, { host: 'b' }],
      [1002, { x: 0, y: 4, w: 12, h: 4 }, { host: 'c' }],
      [2, { x: 0, y: 8, w: 12, h: 4 }, undefined],
    ]);
  });
  it('stacks vertical repeats and leaves panels without values alone', () => {
    const panels = expandRepeats([{ ...p(1, 0, 3), repeat: 'x', repeatDirection: 'v' }, { ...p(5, 3), repeat: 'none' }], (n) => (n === 'x' ? ['1', '2'] : []));
    expect(panels.map((x) => [x.id, x.gridPos?.y])).toEqual([
      [1, 0],
      [1001, 3],
      [5, 6],
    ]);
  });
});

describe('compactUp', () => {
  it('moves each panel up until it rests on one above it, never over another', () => {
    const out = compactUp([
      { x: 0, y: 5, w: 12, h: 4 },
      { x: 12, y: 0, w: 12, h: 10 },
      { x: 6, y: 20, w: 12, h: 2 },
    ]);
    expect(out).toEqual([
      { x: 0, y: 0, w: 12, h: 4 },
      { x: 12, y: 0, w: 12, h: 10 },
      // Overlaps both columns: rests under the taller one.
      { x: 6, y: 10, w: 12, h: 2 },
    ]);
  });
});

describe('row repeats', () => {
  const values = (name: string) => (name === 'host' ? ['a', 'b'] : undefined);
  it('repeats an open row with the panels under it, each copy scoped to its value', () => {
    const out = expandRowRepeats([p(1, 0), row(2, 4, false), p(3, 5, 4, { title: '$host' }), row(4, 9), p(5, 10)].map((q) => (q.id === 2 ? { ...q, repeat: 'host' } : q)), values);
    expect(out.map((q) => [q.id, q.type, q.scopedVars?.host, q.repeatPanelId])).toEqual([
      [1, 'timeseries', undefined, undefined],
      [2, 'row', 'a', undefined],
      [3, 'timeseries', 'a', undefined],
      [2501, 'row', 'b', 2],
      [3501, 'timeseries', 'b', 3],
      [4, 'row', undefined, undefined],
      [5, 'timeseries', undefined, undefined],
    ]);
  });
  it('repeats a collapsed row with its hidden panels, and panel repeats inside keep the row scope', () => {
    const collapsedRow = { ...row(2, 0, true, [p(3, 1, 4, { repeat: 'disk' })]), repeat: 'host' };
    const out = expandRepeats([collapsedRow], (name) => (name === 'host' ? ['a', 'b'] : name === 'disk' ? ['x', 'y'] : undefined));
    expect(out.map((q) => q.id)).toEqual([2, 2501]);
    expect(out[1].panels?.map((q) => [q.id, q.scopedVars])).toEqual([
      [3501, { host: 'b', disk: 'x' }],
      [3501 * 1000 + 1, { host: 'b', disk: 'y' }],
    ]);
  });
  it('repeats an open row once, not again as a panel', () => {
    const out = expandRepeats([{ ...row(1, 0), repeat: 'host' }, p(2, 1)], values);
    expect(out.map((q) => q.id)).toEqual([1, 2, 1501, 2501]);
  });
  it('leaves a row alone when its variable has no values', () => {
    const rows = [{ ...row(2, 0), repeat: 'nothing' }, p(3, 1)];
    expect(expandRowRepeats(rows, values)).toEqual(rows);
  });
});

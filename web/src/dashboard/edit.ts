// Pure changes to a dashboard's panel list while editing: add, remove, duplicate, update a panel
// (also inside collapsed rows), and write back positions the grid reports after a drag or resize.

import type { DashboardModel, GridPos, PanelModel } from './model';
import { panelsFromLegacyRows } from './layout';

/** Every panel, rows' collapsed children included. */
function allPanels(panels: readonly PanelModel[]): PanelModel[] {
  return panels.flatMap((p) => [p, ...(p.panels ? allPanels(p.panels) : [])]);
}

/** The next free panel id (ids are unique across the dashboard, rows and their children included). */
export function nextPanelId(panels: readonly PanelModel[]): number {
  return Math.max(0, ...allPanels(panels).map((p) => (typeof p.id === 'number' ? p.id : 0))) + 1;
}

/**
 * The dashboard in the panel model editing works on: legacy `rows` (before schema 16) become
 * panels with grid positions, as Grafana migrates them when such a dashboard is first edited.
 */
export function editableDashboard(dashboard: DashboardModel): DashboardModel {
  if (dashboard.panels || !dashboard.rows) return dashboard;
  const { rows, ...rest } = dashboard;
  return { ...rest, panels: panelsFromLegacyRows(rows) };
}

/** Moves every top-level panel down by `h` grid rows, making room at the top. */
function pushDown(panels: readonly PanelModel[], h: number): PanelModel[] {
  return panels.map((p) => ({ ...p, gridPos: { x: 0, w: 12, h: 8, ...p.gridPos, y: (p.gridPos?.y ?? 0) + h } }));
}

/** A new panel of `type`, placed at the top left as Grafana places it; returns the panel's id too. */
export function addPanel(panels: readonly PanelModel[], template: Partial<PanelModel> = {}): { panels: PanelModel[]; id: number } {
  const id = nextPanelId(panels);
  const gridPos: GridPos = { x: 0, y: 0, w: 12, h: 8, ...template.gridPos };
  const panel: PanelModel = { type: 'timeseries', title: 'Panel Title', targets: [{ refId: 'A' }], ...template, id, gridPos: { ...gridPos, y: 0 } };
  return { panels: [panel, ...pushDown(panels, gridPos.h)], id };
}

/** A new, expanded row at the top. */
export function addRow(panels: readonly PanelModel[]): { panels: PanelModel[]; id: number } {
  const id = nextPanelId(panels);
  const row: PanelModel = { id, type: 'row', title: 'Row title', collapsed: false, gridPos: { x: 0, y: 0, w: 24, h: 1 }, panels: [] };
  return { panels: [row, ...pushDown(panels, 1)], id };
}

/** Applies `change` to the panel with `id`, wherever it is. */
export function updatePanel(panels: readonly PanelModel[], id: number, change: (p: PanelModel) => PanelModel): PanelModel[] {
  return panels.map((p) => {
    if (p.id === id) return change(p);
    if (p.panels?.length) return { ...p, panels: updatePanel(p.panels, id, change) };
    return p;
  });
}

/** Removes the panel with `id`; removing a row keeps its visible panels (as Grafana's "Row only"). */
export function removePanel(panels: readonly PanelModel[], id: number): PanelModel[] {
  return panels.filter((p) => p.id !== id).map((p) => (p.panels?.length ? { ...p, panels: removePanel(p.panels, id) } : p));
}

/** A copy of the panel with a new id, right of it when there is room, else below it. */
export function duplicatePanel(panels: readonly PanelModel[], id: number): { panels: PanelModel[]; id?: number } {
  const source = allPanels(panels).find((p) => p.id === id);
  if (!source || source.type === 'row') return { panels: [...panels] };
  const newId = nextPanelId(panels);
  const pos: GridPos = { x: 0, y: 0, w: 12, h: 8, ...source.gridPos };
  const fitsRight = pos.x + 2 * pos.w <= 24;
  const { scopedVars: _scoped, ...rest } = structuredClone(source); // eslint-disable-line @typescript-eslint/no-unused-vars
  const copy: PanelModel = { ...rest, id: newId, gridPos: fitsRight ? { ...pos, x: pos.x + pos.w } : { ...pos, y: pos.y + pos.h } };
  const insert = (list: readonly PanelModel[]): PanelModel[] =>
    list.flatMap((p) => (p.id === id ? [p, copy] : p.panels?.length ? [{ ...p, panels: insert(p.panels) }] : [p]));
  return { panels: insert(panels), id: newId };
}

export interface GridItemPosition {
  /** The grid key: the panel id as a string. */
  i: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Writes the grid's positions (after a drag or resize) into the panels and orders the top level by
 * position, so a panel dragged below a row header belongs to that row, as in Grafana. Panels the
 * grid did not show (inside a row closed on screen) stay right after their row.
 */
export function applyGridLayout(panels: readonly PanelModel[], layout: readonly GridItemPosition[]): PanelModel[] {
  const byKey = new Map(layout.map((item) => [item.i, item]));
  interface Block {
    head: PanelModel;
    hidden: PanelModel[];
    order: number;
  }
  const blocks: Block[] = [];
  let current: Block | undefined;
  panels.forEach((panel, order) => {
    const pos = byKey.get(String(panel.id));
    if (!pos && current) {
      current.hidden.push(panel);
      return;
    }
    const head = pos ? { ...panel, gridPos: { x: pos.x, y: pos.y, w: pos.w, h: pos.h } } : panel;
    current = { head, hidden: [], order };
    blocks.push(current);
  });
  const sortKey = (b: Block) => [b.head.gridPos?.y ?? 0, b.head.type === 'row' ? -1 : (b.head.gridPos?.x ?? 0), b.order];
  blocks.sort((a, b) => {
    const [ay, ax, ao] = sortKey(a);
    const [by, bx, bo] = sortKey(b);
    return ay - by || ax - bx || ao - bo;
  });
  return blocks.flatMap((b) => [b.head, ...b.hidden]);
}

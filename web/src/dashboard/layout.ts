// From the dashboard's panel list to grid items: rows own the panels after them (or, when saved
// collapsed, the panels in `row.panels`); a collapsed row shows only its header, and what follows
// moves up, as in Grafana.

import type { GridPos, PanelModel } from './model';

export interface RowGroup {
  /** Undefined for the panels above the first row. */
  row?: PanelModel;
  panels: PanelModel[];
}

export function groupByRow(panels: readonly PanelModel[]): RowGroup[] {
  const groups: RowGroup[] = [{ panels: [] }];
  for (const panel of panels) {
    if (panel.type === 'row') {
      groups.push({ row: panel, panels: panel.collapsed ? [...(panel.panels ?? [])] : [] });
    } else {
      groups[groups.length - 1].panels.push(panel);
    }
  }
  return groups.filter((g, i) => i > 0 || g.panels.length > 0);
}

export interface LayoutItem {
  /** Grid key: the panel id (rows too). */
  key: string;
  panel: PanelModel;
  pos: GridPos;
  /** For a row header: whether its panels are hidden. */
  collapsed?: boolean;
  /** For a row header: how many panels it holds. */
  childCount?: number;
}

const DEFAULT_POS: GridPos = { x: 0, y: 0, w: 12, h: 8 };

function posOf(panel: PanelModel): GridPos {
  const p = { ...DEFAULT_POS, ...(panel.gridPos ?? {}) };
  // Keep every panel inside the 24 columns whatever the JSON says.
  const w = Math.min(Math.max(1, p.w), 24);
  return { x: Math.min(Math.max(0, p.x), 24 - w), y: Math.max(0, p.y), w, h: Math.max(1, p.h) };
}

const overlaps = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Vertical compaction, as Grafana's grid does: in order of position, each panel moves up as far as it
 * can without overlapping one already placed; the result starts at y = 0. Saved gaps (a collapsed
 * row's panels often keep positions from far down the dashboard) close.
 */
export function compactUp(positions: readonly GridPos[]): GridPos[] {
  const order = positions.map((_, i) => i).sort((a, b) => positions[a].y - positions[b].y || positions[a].x - positions[b].x);
  const placed: GridPos[] = [];
  const out: GridPos[] = new Array(positions.length);
  for (const i of order) {
    const pos = { ...positions[i] };
    // The lowest y it may take: under every placed panel it would overlap in columns.
    pos.y = Math.max(0, ...placed.filter((q) => q.x < pos.x + pos.w && pos.x < q.x + q.w).map((q) => q.y + q.h));
    while (placed.some((q) => overlaps(q, pos))) pos.y += 1;
    placed.push(pos);
    out[i] = pos;
  }
  return out;
}

/**
 * Lays the groups out top to bottom. Each group's panels keep their positions relative to one
 * another, placed under their row header; `collapsed` says which rows are closed (by row id).
 */
export function layoutItems(groups: readonly RowGroup[], collapsed: ReadonlySet<number>): LayoutItem[] {
  const items: LayoutItem[] = [];
  let cursor = 0;
  for (const group of groups) {
    if (group.row) {
      const isCollapsed = collapsed.has(group.row.id);
      items.push({ key: String(group.row.id), panel: group.row, pos: { x: 0, y: cursor, w: 24, h: 1 }, collapsed: isCollapsed, childCount: group.panels.length });
      cursor += 1;
      if (isCollapsed) continue;
    }
    if (group.panels.length === 0) continue;
    const positions = compactUp(group.panels.map(posOf));
    let bottom = cursor;
    group.panels.forEach((panel, i) => {
      const pos = { ...positions[i], y: cursor + positions[i].y };
      bottom = Math.max(bottom, pos.y + pos.h);
      items.push({ key: String(panel.id), panel, pos });
    });
    cursor = bottom;
  }
  return items;
}

/** The rows closed on screen: those saved collapsed, except the ones toggled (opened or closed) since. */
export function collapsedRows(panels: readonly PanelModel[], toggled: ReadonlySet<number>): Set<number> {
  return new Set(panels.filter((p) => p.type === 'row' && !!p.collapsed !== toggled.has(p.id)).map((p) => p.id));
}

/** Finds a panel by id anywhere, including inside collapsed rows (for `viewPanel`). */
export function findPanel(panels: readonly PanelModel[], id: number): PanelModel | undefined {
  for (const p of panels) {
    if (p.id === id) return p;
    const inner = p.panels ? findPanel(p.panels, id) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

interface LegacyRow {
  title?: string;
  height?: number | string;
  collapse?: boolean;
  showTitle?: boolean;
  panels?: PanelModel[];
}

/**
 * Dashboards older than schema 16 keep panels inside `rows` with a `span` (of 12) and a row height in
 * pixels. This places them on the 24-column grid as Grafana's migration does: width = span × 2,
 * height = row height / 30 px, left to right, wrapping; a row with a shown title becomes a row panel.
 */
export function panelsFromLegacyRows(rows: readonly LegacyRow[]): PanelModel[] {
  const out: PanelModel[] = [];
  let y = 0;
  let nextId = Math.max(0, ...rows.flatMap((r) => (r.panels ?? []).map((p) => p.id ?? 0))) + 1;
  for (const row of rows) {
    const heightPx = typeof row.height === 'number' ? row.height : parseInt(row.height ?? '250', 10) || 250;
    const h = Math.max(1, Math.ceil(heightPx / 30));
    const titled = row.showTitle || row.collapse || rows.length > 1;
    const placed: PanelModel[] = [];
    let x = 0;
    let rowY = titled ? y + 1 : y;
    let bottom = rowY;
    for (const panel of row.panels ?? []) {
      const span = typeof panel.span === 'number' ? panel.span : 12;
      const w = Math.max(1, Math.min(24, Math.round(span * 2)));
      if (x + w > 24) {
        x = 0;
        rowY = bottom;
      }
      const { span: _span, ...rest } = panel; // eslint-disable-line @typescript-eslint/no-unused-vars
      placed.push({ ...rest, id: panel.id ?? nextId++, gridPos: { x, y: rowY, w, h } });
      x += w;
      bottom = Math.max(bottom, rowY + h);
    }
    if (titled) {
      const rowPanel: PanelModel = { id: nextId++, type: 'row', title: row.title ?? '', collapsed: !!row.collapse, gridPos: { x: 0, y, w: 24, h: 1 }, panels: row.collapse ? placed : [] };
      out.push(rowPanel);
      if (!row.collapse) out.push(...placed);
      y = row.collapse ? y + 1 : bottom;
    } else {
      out.push(...placed);
      y = bottom;
    }
  }
  return out;
}

/** Ids of a repeated row's copies: the original's id × 1000 + 500 + copy number, apart from panel copies' ids (× 1000 + 1..499). */
const ROW_COPY_ID_BASE = 500;

/**
 * Row repeats (a row's `repeat: "<variable>"`): the row and the panels it holds (the ones after it, or
 * in `panels` when collapsed), once per selected value, each copy's row and panels carrying the value
 * in `scopedVars`. Copies follow the original in order; layoutItems stacks row groups by order.
 */
export function expandRowRepeats(panels: readonly PanelModel[], valuesOf: (name: string) => string[] | undefined): PanelModel[] {
  const out: PanelModel[] = [];
  for (let i = 0; i < panels.length; ) {
    const row = panels[i];
    if (row.type !== 'row') {
      out.push(row);
      i += 1;
      continue;
    }
    let end = i + 1;
    while (end < panels.length && panels[end].type !== 'row') end += 1;
    const members = panels.slice(i + 1, end);
    const name = typeof row.repeat === 'string' ? row.repeat : undefined;
    const values = name ? valuesOf(name) : undefined;
    if (!name || !values || values.length === 0) {
      out.push(row, ...members);
    } else {
      values.forEach((value, j) => {
        const scoped = (p: PanelModel): PanelModel => ({
          ...p,
          id: j === 0 ? p.id : p.id * 1000 + ROW_COPY_ID_BASE + j,
          ...(j === 0 ? {} : { repeatPanelId: p.id }),
          scopedVars: { ...p.scopedVars, [name]: value },
        });
        out.push({ ...scoped(row), ...(row.panels ? { panels: row.panels.map(scoped) } : {}) }, ...members.map(scoped));
      });
    }
    i = end;
  }
  return out;
}

/**
 * Repeats: rows first (expandRowRepeats), then panels (`repeat: "<variable>"`): one copy of the panel
 * per selected value, each with that value in `scopedVars`. Horizontal copies share the panel's row
 * (at most `maxPerRow`, default 4, a row); vertical ones stack. Panels below move down by the height
 * the copies add.
 */
export function expandRepeats(panels: readonly PanelModel[], valuesOf: (name: string) => string[] | undefined): PanelModel[] {
  const rowsExpanded = expandRowRepeats(panels, valuesOf);
  return expandPanelRepeats(rowsExpanded, valuesOf);
}

function expandPanelRepeats(panels: readonly PanelModel[], valuesOf: (name: string) => string[] | undefined): PanelModel[] {
  let out = [...panels];
  for (const panel of panels) {
    // A row's own `repeat` is a row repeat (expandRowRepeats); a collapsed row's panels repeat inside it.
    if (panel.type === 'row') {
      if (panel.collapsed && panel.panels) {
        const inner = expandPanelRepeats(panel.panels, valuesOf);
        out = out.map((p) => (p === panel ? { ...panel, panels: inner } : p));
      }
      continue;
    }
    const name = typeof panel.repeat === 'string' ? panel.repeat : undefined;
    const values = name ? valuesOf(name) : undefined;
    if (!name || !values || values.length === 0) continue;
    const pos = { ...DEFAULT_POS, ...(panel.gridPos ?? {}) };
    const vertical = panel.repeatDirection === 'v';
    const perRow = vertical ? 1 : Math.max(1, Math.min(values.length, typeof panel.maxPerRow === 'number' ? panel.maxPerRow : 4));
    const w = vertical ? pos.w : Math.max(1, Math.floor(24 / perRow));
    const copies = values.map((value, j) => ({
      ...panel,
      id: j === 0 ? panel.id : panel.id * 1000 + j,
      // Grafana marks copies with the panel they repeat; editing leaves them out of the saved JSON.
      ...(j === 0 ? {} : { repeatPanelId: panel.id }),
      scopedVars: { ...panel.scopedVars, [name]: value },
      gridPos: { x: vertical ? pos.x : (j % perRow) * w, y: pos.y + Math.floor(j / perRow) * pos.h, w, h: pos.h },
    }));
    const added = (Math.ceil(values.length / perRow) - 1) * pos.h;
    out = out.flatMap((p) => {
      if (p === panel) return copies;
      const py = p.gridPos?.y ?? 0;
      return added > 0 && py > pos.y && p.gridPos ? [{ ...p, gridPos: { ...p.gridPos, y: py + added } }] : [p];
    });
  }
  return out;
}

// Removing a dashboard row, as Grafana's "Delete row" dialog offers it: the row only (its panels
// stay, a collapsed row's hidden panels come out onto the dashboard) or the row with its panels.

import type { PanelModel } from './model';

/** The top-level panels an expanded row holds: those after it, up to the next row. */
function followingPanels(panels: readonly PanelModel[], index: number): PanelModel[] {
  const out: PanelModel[] = [];
  for (let i = index + 1; i < panels.length && panels[i].type !== 'row'; i++) out.push(panels[i]);
  return out;
}

/** How many panels the row holds (collapsed: inside it; expanded: below it). */
export function rowPanelCount(panels: readonly PanelModel[], rowId: number): number {
  const index = panels.findIndex((p) => p.id === rowId);
  if (index < 0) return 0;
  const row = panels[index];
  return row.collapsed ? (row.panels?.length ?? 0) : followingPanels(panels, index).length;
}

export function removeRow(panels: readonly PanelModel[], rowId: number, withPanels: boolean): PanelModel[] {
  const index = panels.findIndex((p) => p.id === rowId && p.type === 'row');
  if (index < 0) return [...panels];
  const row = panels[index];
  const before = panels.slice(0, index);
  if (row.collapsed) {
    const after = panels.slice(index + 1);
    return withPanels ? [...before, ...after] : [...before, ...(row.panels ?? []), ...after];
  }
  const held = followingPanels(panels, index).length;
  const after = panels.slice(index + 1 + (withPanels ? held : 0));
  return withPanels ? [...before, ...after] : [...before, ...panels.slice(index + 1)];
}

// The inspect drawer's Panel JSON tab: the edited text back into a panel, or why it cannot be.

import type { PanelModel } from '../model';

export function formatPanelJson(panel: PanelModel): string {
  // A repeated copy's bookkeeping is not part of the saved panel.
  const { scopedVars: _s, repeatPanelId: _r, ...saved } = panel; // eslint-disable-line @typescript-eslint/no-unused-vars
  return JSON.stringify(saved, null, 2);
}

/**
 * The panel the text describes. It must be a JSON object with a `type`; the id stays the original's
 * (the dashboard and the URL know the panel by it), and a missing gridPos keeps the original place.
 */
export function parsePanelJson(text: string, original: PanelModel): { panel: PanelModel } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'The panel must be a JSON object, like {"type": "timeseries", ...}' };
  const panel = value as Record<string, unknown>;
  if (typeof panel.type !== 'string' || panel.type === '') return { error: 'The panel needs a "type" (timeseries, stat, gauge, bargauge, table, text, ...)' };
  if (panel.id !== undefined && panel.id !== original.id) return { error: `The panel's id must stay ${original.id}` };
  return { panel: { ...(panel as PanelModel), id: original.id, gridPos: (panel.gridPos as PanelModel['gridPos']) ?? original.gridPos } };
}

// The visualizations the picker offers (the types panels/registry.tsx draws) and what changing a
// panel's type does to it.

import type { PanelModel } from '../../dashboard/model';

export interface VizType {
  type: string;
  name: string;
  description: string;
}

export const VIZ_TYPES: readonly VizType[] = [
  { type: 'timeseries', name: 'Time series', description: 'Values over time as lines, bars or points' },
  { type: 'stat', name: 'Stat', description: 'One big value per series, with a sparkline' },
  { type: 'gauge', name: 'Gauge', description: 'A value on a dial between min and max' },
  { type: 'bargauge', name: 'Bar gauge', description: 'Values as horizontal bars' },
  { type: 'table', name: 'Table', description: 'The data as rows and columns' },
  { type: 'text', name: 'Text', description: 'Markdown or HTML' },
];

/** What a new text panel says, as Grafana's. */
export const DEFAULT_TEXT = '# Title\n\nFor markdown syntax help: [commonmark.org/help](https://commonmark.org/help/)';

/**
 * The panel as another type. Its queries, field config and options stay (types ignore what they do
 * not read, and switching back finds them again); a text panel gets content to show.
 */
export function changeVizType(panel: PanelModel, type: string): PanelModel {
  if (panel.type === type) return panel;
  const next: PanelModel = { ...panel, type };
  if (type === 'text') {
    const options = { ...(panel.options ?? {}) };
    options.mode ??= 'markdown';
    options.content ??= typeof panel.content === 'string' ? panel.content : DEFAULT_TEXT;
    next.options = options;
  }
  return next;
}

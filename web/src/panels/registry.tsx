// Which component draws which panel type, and whether the type queries at all.

import type { ComponentType } from 'react';
import { BarGaugePanel, GaugePanel } from './GaugePanel';
import { StatPanel } from './StatPanel';
import { TablePanel } from './TablePanel';
import { TextPanel } from './TextPanel';
import { TimeSeriesPanel } from './TimeSeriesPanel';
import type { PanelProps } from './types';

export interface PanelPlugin {
  component: ComponentType<PanelProps>;
  /** Text panels show content from the dashboard and send no query. */
  queries: boolean;
}

const PLUGINS: Record<string, PanelPlugin> = {
  timeseries: { component: TimeSeriesPanel, queries: true },
  graph: { component: TimeSeriesPanel, queries: true },
  stat: { component: StatPanel, queries: true },
  singlestat: { component: StatPanel, queries: true },
  gauge: { component: GaugePanel, queries: true },
  bargauge: { component: BarGaugePanel, queries: true },
  table: { component: TablePanel, queries: true },
  'table-old': { component: TablePanel, queries: true },
  text: { component: TextPanel, queries: false },
};

export function panelPlugin(type: string): PanelPlugin | undefined {
  return PLUGINS[type];
}

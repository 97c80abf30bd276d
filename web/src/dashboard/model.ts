// The parts of Grafana's dashboard JSON model the view reads. Everything else is kept as sent.

import type { Thresholds } from '../lib/thresholds';
import type { VariableModel } from '../lib/variables';
import type { DatasourceRef } from '../api/query';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FieldDefaults {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: Thresholds;
  color?: { mode?: string; fixedColor?: string };
  custom?: Record<string, unknown>;
  displayName?: string;
  [key: string]: unknown;
}

export interface PanelModel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos?: GridPos;
  datasource?: DatasourceRef;
  targets?: Record<string, unknown>[];
  fieldConfig?: { defaults?: FieldDefaults; overrides?: unknown[] };
  options?: Record<string, unknown>;
  /** A row's panels while it is collapsed. */
  panels?: PanelModel[];
  collapsed?: boolean;
  interval?: string;
  maxDataPoints?: number;
  /** Repeat the panel for each value of this variable. */
  repeat?: string;
  repeatDirection?: 'h' | 'v';
  maxPerRow?: number;
  /** Set on a repeated copy: the variable value it shows. */
  scopedVars?: Record<string, string>;
  /** Set on a repeated copy (not the first): the id of the panel it repeats. */
  repeatPanelId?: number;
  transparent?: boolean;
  // Legacy (graph, singlestat) fields.
  format?: string;
  decimals?: number;
  thresholds?: string;
  colors?: string[];
  yaxes?: { format?: string; decimals?: number; min?: number | string | null; max?: number | string | null }[];
  content?: string;
  mode?: string;
  [key: string]: unknown;
}

export interface DashboardModel {
  uid: string;
  title: string;
  tags?: string[];
  panels?: PanelModel[];
  /** Pre-schema-16 dashboards keep panels in rows. */
  rows?: { panels?: PanelModel[]; title?: string; height?: number | string; collapse?: boolean }[];
  templating?: { list?: VariableModel[] };
  time?: { from: string; to: string };
  refresh?: string | false;
  timezone?: string;
  schemaVersion?: number;
  [key: string]: unknown;
}

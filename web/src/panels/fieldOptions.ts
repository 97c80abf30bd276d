// The standard options a panel's values are shown with, merged from fieldConfig and the legacy
// (graph, singlestat) fields so old dashboards keep their units and thresholds.

import type { Thresholds } from '../lib/thresholds';
import type { PanelModel } from '../dashboard/model';

export interface DisplayOptions {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: Thresholds;
  colorMode?: string;
  fixedColor?: string;
  displayName?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);

/** Legacy singlestat thresholds: "50,80" with three colors. */
function legacyThresholds(panel: PanelModel): Thresholds | undefined {
  if (typeof panel.thresholds !== 'string' || !panel.thresholds.trim()) return undefined;
  const colors = panel.colors ?? ['#299c46', 'rgba(237, 129, 40, 0.89)', '#d44a3a'];
  const values = panel.thresholds.split(',').map((v) => Number(v.trim()));
  return { mode: 'absolute', steps: [{ value: null, color: colors[0] }, ...values.map((value, i) => ({ value, color: colors[Math.min(i + 1, colors.length - 1)] }))] };
}

export function displayOptions(panel: PanelModel): DisplayOptions {
  const d = panel.fieldConfig?.defaults ?? {};
  const yaxis = panel.yaxes?.[0];
  return {
    unit: d.unit ?? panel.format ?? yaxis?.format,
    decimals: num(d.decimals) ?? num(panel.decimals) ?? num(yaxis?.decimals),
    min: num(d.min) ?? num(yaxis?.min),
    max: num(d.max) ?? num(yaxis?.max),
    thresholds: d.thresholds ?? legacyThresholds(panel),
    colorMode: d.color?.mode,
    fixedColor: d.color?.fixedColor,
    displayName: d.displayName,
  };
}

/** The reducer a stat-like panel uses: `reduceOptions.calcs[0]`, or legacy `valueName`. */
export function reducerOf(panel: PanelModel): string {
  const calcs = (panel.options?.reduceOptions as { calcs?: string[] } | undefined)?.calcs;
  if (calcs && calcs.length > 0) return calcs[0];
  if (typeof panel.valueName === 'string') return panel.valueName;
  return 'lastNotNull';
}

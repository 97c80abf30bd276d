// Field overrides (`fieldConfig.overrides`): per-series changes picked by a matcher. Covers the
// matchers and properties dashboards such as Node Exporter Full use on time series.

import { resolveColor } from '../lib/thresholds';

export interface Override {
  matcher?: { id?: string; options?: unknown };
  properties?: { id?: string; value?: unknown }[];
}

export interface SeriesStyle {
  displayName?: string;
  color?: string;
  unit?: string;
  fillOpacity?: number;
  lineWidth?: number;
  dash?: number[];
  negativeY?: boolean;
  /** `false` means "stack alone" (Grafana's group: false); undefined keeps the panel's stacking. */
  stackGroup?: string | false | null;
  hideFromViz?: boolean;
  hideFromLegend?: boolean;
  hideFromTooltip?: boolean;
  /** `custom.axisPlacement`: which side this series' axis is on. */
  axisPlacement?: 'auto' | 'left' | 'right' | 'hidden';
}

/** Grafana writes regex options as `/pattern/flags` or as a bare pattern. */
function toRegExp(text: string): RegExp | undefined {
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(text);
  try {
    return m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(text);
  } catch {
    return undefined; // an invalid pattern matches nothing, as in Grafana
  }
}

export function matches(matcher: Override['matcher'], name: string, refId: string): boolean {
  const options = matcher?.options;
  switch (matcher?.id) {
    case 'byName':
      return options === name;
    case 'byRegexp':
      return typeof options === 'string' && !!toRegExp(options)?.test(name);
    case 'byNames': {
      const o = options as { names?: string[]; mode?: string } | undefined;
      const listed = (o?.names ?? []).includes(name);
      return o?.mode === 'exclude' ? !listed : listed;
    }
    case 'byFrameRefID':
      return options === refId;
    default:
      return false;
  }
}

/** The style of one series: every matching override's properties, later ones winning. */
export function seriesStyle(overrides: readonly Override[] | undefined, name: string, refId: string): SeriesStyle {
  const style: SeriesStyle = {};
  for (const o of overrides ?? []) {
    if (!matches(o.matcher, name, refId)) continue;
    for (const p of o.properties ?? []) {
      const v = p.value as Record<string, unknown> | string | number | undefined;
      switch (p.id) {
        case 'displayName':
          if (typeof v === 'string') style.displayName = v;
          break;
        case 'color': {
          const c = v as { mode?: string; fixedColor?: string } | undefined;
          if (c?.mode === 'fixed' && c.fixedColor) style.color = resolveColor(c.fixedColor);
          break;
        }
        case 'unit':
          if (typeof v === 'string') style.unit = v;
          break;
        case 'custom.fillOpacity':
          if (typeof v === 'number') style.fillOpacity = v;
          break;
        case 'custom.lineWidth':
          if (typeof v === 'number') style.lineWidth = v;
          break;
        case 'custom.lineStyle': {
          const l = v as { fill?: string; dash?: number[] } | undefined;
          style.dash = l?.fill === 'dash' || l?.fill === 'dot' ? (l.dash ?? (l.fill === 'dot' ? [0, 10] : [10, 10])) : undefined;
          break;
        }
        case 'custom.transform':
          style.negativeY = v === 'negative-Y';
          break;
        case 'custom.stacking': {
          const s = v as { mode?: string; group?: string | false } | undefined;
          style.stackGroup = s?.mode === 'normal' ? (s.group === false ? false : (s.group ?? 'A')) : null;
          break;
        }
        case 'custom.axisPlacement':
          if (v === 'auto' || v === 'left' || v === 'right' || v === 'hidden') style.axisPlacement = v;
          break;
        case 'custom.hideFrom': {
          const h = v as { viz?: boolean; legend?: boolean; tooltip?: boolean } | undefined;
          style.hideFromViz = !!h?.viz;
          style.hideFromLegend = !!h?.legend;
          style.hideFromTooltip = !!h?.tooltip;
          break;
        }
      }
    }
  }
  return style;
}

export interface SeriesScale {
  /** uPlot scale key: `y` for the panel's own axis, else one per side and unit. */
  key: string;
  side: 'left' | 'right';
  unit: string | undefined;
}

/**
 * The scale (and so the axis) a series is drawn against. As in Grafana, series sharing a unit share
 * an axis: the panel's own (`y`) unless an override gives the series another unit or places its axis
 * on the other side, in which case it gets an axis of its own for that side and unit. An override's
 * unit without a placement goes to the side opposite the panel's axis.
 */
export function seriesScale(style: SeriesStyle, panelUnit: string | undefined, panelSide: 'left' | 'right'): SeriesScale {
  // A panel without a unit shows plain numbers, Grafana's `short`.
  const unit = style.unit ?? panelUnit;
  const sameUnit = (unit || 'short') === (panelUnit || 'short');
  const placed = style.axisPlacement === 'left' || style.axisPlacement === 'right' ? style.axisPlacement : undefined;
  const side = placed ?? (sameUnit ? panelSide : panelSide === 'left' ? 'right' : 'left');
  if (sameUnit && side === panelSide) return { key: 'y', side, unit: panelUnit };
  return { key: `y-${side}-${unit ?? ''}`, side, unit };
}

import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, reduce, shareOfGroup, stackColumns, type Series } from '../lib/frames';
import { thresholdColor, thresholdLevels } from '../lib/thresholds';
import { formatValueText } from '../lib/units';
import { useTheme } from '../app/theme';
import { formatDateTime } from '../lib/time';
import { displayOptions, type DisplayOptions } from './fieldOptions';
import { seriesScale, seriesStyle, type Override } from './overrides';
import { cssVar, seriesColor, withAlpha } from './palette';
import type { PanelProps } from './types';
import type { AlertAnnotation } from '../api/alerting';
import { annotationColor, annotationsInRange, markerGroups, transitionText, type MarkerGroup } from './annotations';

interface Custom {
  drawStyle?: 'line' | 'bars' | 'points';
  lineWidth?: number;
  fillOpacity?: number;
  showPoints?: 'auto' | 'never' | 'always';
  pointSize?: number;
  lineInterpolation?: 'linear' | 'smooth' | 'stepBefore' | 'stepAfter';
  spanNulls?: boolean | number;
  thresholdsStyle?: { mode?: string };
  stacking?: { mode?: 'none' | 'normal' | 'percent'; group?: string };
  axisPlacement?: 'auto' | 'left' | 'right' | 'hidden';
}

interface LegendOptions {
  showLegend?: boolean;
  displayMode?: 'list' | 'table' | 'hidden';
  placement?: 'bottom' | 'right';
  calcs?: string[];
}

/** Custom draw options, from fieldConfig or the legacy graph panel's lines/bars/points flags. */
function customOf(panel: PropsPanel): Custom {
  const custom = (panel.fieldConfig?.defaults?.custom ?? {}) as Custom;
  if (panel.type !== 'graph') return custom;
  return {
    drawStyle: panel.bars ? 'bars' : panel.points && !panel.lines ? 'points' : 'line',
    lineWidth: typeof panel.linewidth === 'number' ? panel.linewidth : 1,
    fillOpacity: typeof panel.fill === 'number' ? panel.fill * 10 : 10,
    showPoints: panel.points ? 'always' : 'never',
    stacking: panel.stack ? { mode: 'normal', group: 'A' } : undefined,
    spanNulls: panel.nullPointMode === 'connected',
    lineInterpolation: panel.steppedLine ? 'stepAfter' : 'linear',
  };
}

type PropsPanel = PanelProps['panel'];

function seriesColorFor(s: Series, index: number, opts: DisplayOptions): string {
  if (opts.colorMode === 'fixed' && opts.fixedColor) return thresholdColor(0, { steps: [{ value: null, color: opts.fixedColor }] });
  if (opts.colorMode === 'thresholds') {
    const last = reduce(s.values, 'lastNotNull');
    if (last !== null) return thresholdColor(last, opts.thresholds, opts.min, opts.max);
  }
  return seriesColor(index);
}

interface TooltipProps {
  series: Series[];
  colors: string[];
  hidden: ReadonlySet<number>;
  idx: number;
  left: number;
  top: number;
  /** Grafana's tooltip "single" mode: only this series (the one nearest the cursor). */
  only?: number;
  width: number;
  opts: DisplayOptions;
  /** Each series' unit (an override's, else the panel's). */
  units: (string | undefined)[];
  timeZone: PanelProps['timeZone'];
  times: number[];
}

/** The visible series' values at the hovered time (all of them, or the nearest one), beside the cursor. */
function Tooltip({ series, colors, hidden, idx, left, top, only, width, opts, units, timeZone, times }: TooltipProps) {
  const time = times[idx];
  if (time === undefined) return null;
  const rows = series
    .map((s, i) => ({ name: s.name, color: colors[i], value: valueAt(s, time), i }))
    .filter((r) => !hidden.has(r.i) && (only === undefined || r.i === only));
  // Keep the box inside the panel: flip to the cursor's left on the right half.
  const style = left > width / 2 ? { right: width - left + 12, top: top + 12 } : { left: left + 12, top: top + 12 };
  return (
    <div className="tooltip" role="tooltip" style={style}>
      <div className="tooltip-time">{formatDateTime(time, timeZone)}</div>
      {rows.slice(0, 20).map((r) => (
        <div key={r.i} className="tooltip-row">
          <span className="legend-swatch" style={{ background: r.color }} />
          <span className="tooltip-name">{r.name}</span>
          <span className="tooltip-value">{formatValueText(r.value, units[r.i], opts.decimals)}</span>
        </div>
      ))}
      {rows.length > 20 && <div className="tooltip-more">and {rows.length - 20} more</div>}
    </div>
  );
}

function plotBoxOf(u: uPlot): PlotBox {
  return { left: u.over.offsetLeft, top: u.over.offsetTop, width: u.over.clientWidth, height: u.over.clientHeight };
}

/**
 * The alert state changes of a marker, shown while it is hovered: when and which rule, then one
 * line per change (the first few, then a count). Placed inside the plot area, beside the marker,
 * so the panel's edge does not cut it.
 */
function AnnotationTooltip({ group, box, width, timeZone }: { group: MarkerGroup; box: PlotBox; width: number; timeZone: PanelProps['timeZone'] }) {
  const left = group.x;
  const place = left > width / 2 ? { right: width - left + 8 } : { left: left + 8 };
  const style = { ...place, top: box.top + 4, maxHeight: Math.max(60, box.height - 8), overflow: 'hidden' };
  const names = [...new Set(group.items.map((a) => a.alertName).filter(Boolean))];
  const first = group.items[0];
  const last = group.items[group.items.length - 1];
  const shown = group.items.slice(0, 5);
  const line = { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' } as const;
  return (
    <div className="tooltip" role="tooltip" data-testid="annotation-tooltip" style={style}>
      <div className="tooltip-time">
        {formatDateTime(first.time, timeZone)}
        {last.time !== first.time ? ` – ${formatDateTime(last.time, timeZone)}` : ''}
        {names.length === 1 ? ` · ${names[0]}` : ''}
      </div>
      {shown.map((a) => (
        <div key={a.id} className="tooltip-row" style={line} title={a.text}>
          <span className="legend-swatch" style={{ background: annotationColor(a.newState) }} />
          <span style={{ fontWeight: 500 }}>{transitionText(a)}</span>
          {names.length > 1 && a.alertName ? <span>{a.alertName}</span> : null}
          {a.text && <span className="tooltip-more" style={{ ...line, minWidth: 0 }}>{a.text}</span>}
        </div>
      ))}
      {group.items.length > shown.length && <div className="tooltip-more">and {group.items.length - shown.length} more</div>}
    </div>
  );
}

/** A series' own value at a time (not the stacked total), null where it has no point. */
function valueAt(s: Series, time: number): number | null {
  const i = s.times.indexOf(time);
  return i < 0 ? null : s.values[i];
}

let measureContext: CanvasRenderingContext2D | null | undefined;

/** Width in pixels of an axis label in uPlot's default axis font (12px system-ui). */
function measureLabel(text: string): number {
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * 7;
  measureContext.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  return Math.ceil(measureContext.measureText(text).width);
}

const CALC_NAMES: Record<string, string> = { lastNotNull: 'Last *', last: 'Last', mean: 'Mean', max: 'Max', min: 'Min', sum: 'Total', firstNotNull: 'First *', first: 'First', count: 'Count', range: 'Range', delta: 'Delta' };
const calcName = (calc: string) => CALC_NAMES[calc] ?? calc;

function seriesFill(color: string, opacity: number, bars: boolean): string | undefined {
  if (bars) return withAlpha(color, Math.max(opacity, 80) / 100);
  return opacity > 0 ? withAlpha(color, opacity / 100) : undefined;
}

function pathsFor(custom: Custom): uPlot.Series.PathBuilder | undefined {
  if (custom.drawStyle === 'bars') return uPlot.paths.bars!({ size: [0.8, 64] });
  if (custom.lineInterpolation === 'stepAfter') return uPlot.paths.stepped!({ align: 1 });
  if (custom.lineInterpolation === 'stepBefore') return uPlot.paths.stepped!({ align: -1 });
  if (custom.lineInterpolation === 'smooth') return uPlot.paths.spline!();
  return undefined;
}

/** Where the plot area sits in the chart box (CSS px), for the annotation markers under it. */
interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

const NO_ANNOTATIONS: AlertAnnotation[] = [];

export function TimeSeriesPanel({ panel, data, width, height, timeZone, range, onZoom, annotations = NO_ANNOTATIONS }: PanelProps) {
  const chartRef = useRef<HTMLDivElement>(null);
  const [plotBox, setPlotBox] = useState<PlotBox>();
  const [hoveredMarker, setHoveredMarker] = useState<number>();
  const shownAnnotations = useMemo(() => annotationsInRange(annotations, range.from, range.to), [annotations, range.from, range.to]);
  // Read by the draw hook, so new annotations are drawn with a redraw instead of a rebuild.
  const annotationsRef = useRef(shownAnnotations);
  const plotRef = useRef<uPlot | null>(null);
  const [theme] = useTheme();
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  // The hovered point: its index in the data and where the cursor is, for the tooltip.
  const [hover, setHover] = useState<{ idx: number; left: number; top: number; nearest?: number }>();
  const opts = displayOptions(panel);
  const custom = customOf(panel);
  const legend = (panel.options?.legend ?? {}) as LegendOptions;
  const showLegend = legend.showLegend !== false && legend.displayMode !== 'hidden' && (panel.legend as { show?: boolean } | undefined)?.show !== false;
  // Overrides match on the name the series arrives with; a displayName override then renames it.
  const overrides = panel.fieldConfig?.overrides as Override[] | undefined;
  const styles = useMemo(() => data.series.map((s) => seriesStyle(overrides, s.name, s.refId)), [data.series, overrides]);
  const series = useMemo(() => data.series.map((s, i) => (styles[i].displayName ? { ...s, name: styles[i].displayName! } : s)), [data.series, styles]);
  const colors = useMemo(() => series.map((s, i) => styles[i].color ?? seriesColorFor(s, i, opts)), [series, styles, opts.colorMode, opts.fixedColor, opts.thresholds]); // eslint-disable-line react-hooks/exhaustive-deps
  const times = useMemo(() => alignSeries(series).times, [series]);
  const units = useMemo(() => styles.map((st) => st.unit ?? opts.unit), [styles, opts.unit]);
  const hiddenFromTooltip = useMemo(() => new Set([...hidden, ...styles.flatMap((st, i) => (st.hideFromTooltip || st.hideFromViz ? [i] : []))]), [hidden, styles]);
  // Tooltip: all series (Grafana's "multi", the legacy graph's shared tooltip), the nearest ("single"), or none.
  const legacyTooltip = panel.tooltip as { shared?: boolean } | undefined;
  const tooltipMode = ((panel.options?.tooltip as { mode?: string } | undefined)?.mode ?? (legacyTooltip?.shared === false ? 'single' : 'multi')) as 'single' | 'multi' | 'none' | 'hidden';
  // The legend goes below the chart, or beside it on the right (up to 40 % of the width).
  const legendRight = showLegend && legend.placement === 'right';
  const legendWidth = legendRight ? Math.round(Math.min(width * 0.4, legend.displayMode === 'table' ? 420 : 280)) : 0;
  const chartWidth = Math.max(10, width - legendWidth);
  const legendRows = legend.displayMode === 'table' ? series.length + 1 : Math.ceil(series.length / Math.max(1, Math.floor(width / 220)));
  const legendHeight = showLegend && !legendRight ? Math.min(height * 0.35, 6 + legendRows * 20) : 0;
  const chartHeight = Math.max(40, height - legendHeight);

  // The chart is rebuilt when the data or its look changes, and resized in place otherwise.
  const onZoomRef = useRef(onZoom);
  useEffect(() => {
    onZoomRef.current = onZoom;
  });
  useEffect(() => {
    annotationsRef.current = shownAnnotations;
    plotRef.current?.redraw(false);
  }, [shownAnnotations]);
  useEffect(() => {
    const el = chartRef.current;
    if (!el || series.length === 0) return;
    const aligned = alignSeries(series);
    // Stacked series are drawn at their running totals; a band per pair fills only the space between them.
    // Percent stacking stacks each series' share of its group's total, on a 0-100 % axis.
    const percent = custom.stacking?.mode === 'percent';
    const stackMode = custom.stacking?.mode === 'normal' || percent ? (custom.stacking?.group ?? 'A') : undefined;
    // negative-Y draws a series below the axis (transmit under receive); stacking can be changed per series.
    const columns = aligned.columns.map((c, i) => (styles[i].negativeY ? c.map((v) => (v === null ? null : -v)) : c));
    const groups = styles.map((st, i) => (st.stackGroup === undefined ? stackMode : st.stackGroup === false ? `alone-${i}` : (st.stackGroup ?? undefined)));
    const { stacked, below } = stackColumns(percent ? shareOfGroup(columns, groups) : columns, groups);
    // The panel's axis side (custom.axisPlacement), and a second axis on the other side for series an
    // override moves there or gives a unit of their own.
    const mainSide = custom.axisPlacement === 'right' ? 'right' : 'left';
    const scales = styles.map((st) => seriesScale(st, opts.unit, mainSide));
    const extraScales = [...new Map(scales.filter((sc) => sc.key !== 'y').map((sc) => [sc.key, sc])).values()];
    const yUnit = percent ? 'percentunit' : opts.unit;
    const valueAxis = (scale: string, side: 'left' | 'right', unit: string | undefined): uPlot.Axis => ({
      scale,
      side: side === 'left' ? 3 : 1,
      show: scale !== 'y' || custom.axisPlacement !== 'hidden',
      stroke: axisColor,
      grid: { show: scale === 'y', stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor },
      // Wide enough for the longest label ("1.50 GiB"), measured with the axis font.
      size: (_u, values) => 18 + Math.max(24, ...(values ?? []).map((v) => measureLabel(String(v)))),
      values: (_u, splits) => splits.map((v) => formatValueText(v, unit, opts.decimals)),
    });
    const bands = stackMode ? below.map((b, i) => (b >= 0 ? { series: [i + 1, b + 1] as [number, number] } : undefined)).filter((b) => b !== undefined) : undefined;
    const axisColor = cssVar('--text-weak', '#888');
    const gridColor = cssVar('--grid-line', 'rgba(128,128,128,0.1)');
    const paths = pathsFor(custom);
    const fill = custom.fillOpacity ?? (panel.type === 'graph' ? 10 : 0);
    const levels = custom.thresholdsStyle?.mode && custom.thresholdsStyle.mode !== 'off' ? thresholdLevels(opts.thresholds, opts.min, opts.max) : [];
    const tzDate = timeZone === 'utc' ? (ts: number) => uPlot.tzDate(new Date(ts), 'Etc/UTC') : undefined;
    const plot = new uPlot(
      {
        width: chartWidth,
        height: chartHeight,
        ms: 1,
        tzDate,
        legend: { show: false },
        bands,
        cursor: { drag: { x: true, y: false } },
        scales: {
          x: { time: true, range: () => [range.from, range.to] },
          y: { range: (_u, lo, hi) => (percent ? [0, 1] : (uPlot.rangeNum(opts.min ?? lo, opts.max ?? hi, 0.1, true) as [number, number])) },
          ...Object.fromEntries(extraScales.map((sc) => [sc.key, { range: (_u: uPlot, lo: number, hi: number) => uPlot.rangeNum(lo, hi, 0.1, true) as [number, number] }])),
        },
        axes: [
          { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
          valueAxis('y', mainSide, yUnit),
          ...extraScales.map((sc) => valueAxis(sc.key, sc.side, sc.unit)),
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.name,
            scale: scales[i].key,
            stroke: colors[i],
            width: custom.drawStyle === 'points' ? 0 : (styles[i].lineWidth ?? custom.lineWidth ?? 1),
            fill: seriesFill(colors[i], styles[i].fillOpacity ?? fill, custom.drawStyle === 'bars'),
            dash: styles[i].dash,
            paths,
            spanGaps: custom.spanNulls === true,
            show: !hidden.has(i) && !styles[i].hideFromViz,
            points: { show: custom.drawStyle === 'points' || custom.showPoints === 'always', size: custom.pointSize ?? 5 },
          })),
        ],
        hooks: {
          ready: [(u) => setPlotBox(plotBoxOf(u))],
          setSize: [(u) => setPlotBox(plotBoxOf(u))],
          setCursor: [
            (u) => {
              const { idx, left, top } = u.cursor;
              if (idx === null || idx === undefined || left === undefined || left < 0) return setHover(undefined);
              // The series drawn nearest the cursor, for the single-series tooltip.
              let nearest: number | undefined;
              let best = Infinity;
              u.series.forEach((s, i) => {
                const value = i > 0 && s.show ? u.data[i][idx] : null;
                if (value === null || value === undefined) return;
                const distance = Math.abs(u.valToPos(value, s.scale ?? 'y') - (top ?? 0));
                if (distance < best) [best, nearest] = [distance, i - 1];
              });
              // Cursor positions are relative to the plot area; the tooltip is placed in the chart box.
              setHover({ idx, left: left + u.over.offsetLeft, top: (top ?? 0) + u.over.offsetTop, nearest });
            },
          ],
          setSelect: [
            (u) => {
              if (u.select.width < 3) return;
              const from = u.posToVal(u.select.left, 'x');
              const to = u.posToVal(u.select.left + u.select.width, 'x');
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              onZoomRef.current(Math.round(from), Math.round(to));
            },
          ],
          draw: [
            (u) => {
              // Threshold lines, dashed, across the plot.
              const ctx = u.ctx;
              ctx.save();
              ctx.setLineDash([6, 4]);
              ctx.lineWidth = 1;
              for (const l of levels) {
                const y = u.valToPos(l.value, 'y', true);
                if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
                ctx.strokeStyle = l.color;
                ctx.beginPath();
                ctx.moveTo(u.bbox.left, y);
                ctx.lineTo(u.bbox.left + u.bbox.width, y);
                ctx.stroke();
              }
              ctx.restore();
            },
            (u) => {
              // Alert state changes: a vertical line at each (a shaded band over a region), in the
              // colour of the state the alert went to.
              const ctx = u.ctx;
              ctx.save();
              ctx.lineWidth = Math.max(1, devicePixelRatio);
              ctx.setLineDash([4, 3]);
              const top = u.bbox.top;
              const bottom = u.bbox.top + u.bbox.height;
              for (const a of annotationsRef.current) {
                const color = annotationColor(a.newState);
                const x = u.valToPos(a.time, 'x', true);
                if (a.timeEnd && a.timeEnd > a.time) {
                  const end = Math.min(u.valToPos(a.timeEnd, 'x', true), u.bbox.left + u.bbox.width);
                  const start = Math.max(x, u.bbox.left);
                  ctx.fillStyle = withAlpha(color, 0.12);
                  ctx.fillRect(start, top, Math.max(0, end - start), bottom - top);
                }
                if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
                ctx.strokeStyle = color;
                ctx.beginPath();
                ctx.moveTo(x, top);
                ctx.lineTo(x, bottom);
                ctx.stroke();
              }
              ctx.restore();
            },
            (u) => {
              // When the canvas last painted (ms since navigation start) and the points it holds, for
              // the render benchmark (bench/render.mjs) and e2e tests. Attributes, not performance
              // marks, so that auto-refresh does not pile up entries in the performance timeline.
              el.dataset.drawnAt = performance.now().toFixed(1);
              el.dataset.points = String((u.data.length - 1) * (u.data[0]?.length ?? 0));
            },
          ],
        },
      },
      [aligned.times, ...stacked] as uPlot.AlignedData,
      el,
    );
    plotRef.current = plot;
    return () => {
      plot.destroy();
      plotRef.current = null;
    };
    // Size changes are applied by the effect below without a rebuild.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series, styles, units, colors, theme, timeZone, range.from, range.to, panel]);

  useEffect(() => {
    plotRef.current?.setSize({ width: chartWidth, height: chartHeight });
  }, [chartWidth, chartHeight]);

  const toggle = (index: number) => {
    const next = new Set(hidden);
    if (next.has(index)) next.delete(index);
    else next.add(index);
    setHidden(next);
    plotRef.current?.setSeries(index + 1, { show: !next.has(index) });
  };

  if (series.length === 0) return <div className="panel-nodata">No data</div>;

  // Markers under the plot, one per group of changes that would overlap.
  const span = range.to - range.from;
  const groups = plotBox && span > 0 ? markerGroups(shownAnnotations, (time) => plotBox.left + ((Math.max(time, range.from) - range.from) / span) * plotBox.width) : [];

  return (
    <div className={`timeseries${legendRight ? ' legend-right' : ''}`}>
      <div className="timeseries-chart" ref={chartRef} onMouseLeave={() => setHover(undefined)}>
        {hover && tooltipMode !== 'none' && tooltipMode !== 'hidden' && (tooltipMode !== 'single' || hover.nearest !== undefined) && (
          <Tooltip series={series} colors={colors} hidden={hiddenFromTooltip} idx={hover.idx} left={hover.left} top={hover.top} only={tooltipMode === 'single' ? hover.nearest : undefined} width={chartWidth} opts={opts} units={units} timeZone={timeZone} times={times} />
        )}
        {groups.map((g, i) => (
          <span
            key={g.items[0].id}
            className="annotation-marker"
            data-testid="annotation-marker"
            data-state={g.state}
            data-count={g.items.length}
            role="img"
            aria-label={g.items.map((a) => `${a.alertName ?? 'Alert'}: ${transitionText(a)}`).join('; ')}
            style={{ position: 'absolute', left: g.x - 5, top: (plotBox?.top ?? 0) + (plotBox?.height ?? 0) - 4, width: 0, height: 0, borderLeft: '5px solid transparent', borderRight: '5px solid transparent', borderBottom: `7px solid ${annotationColor(g.state)}`, cursor: 'default', zIndex: 2 }}
            onMouseEnter={() => setHoveredMarker(i)}
            onMouseLeave={() => setHoveredMarker(undefined)}
          />
        ))}
        {plotBox && hoveredMarker !== undefined && groups[hoveredMarker] && <AnnotationTooltip group={groups[hoveredMarker]} box={plotBox} width={chartWidth} timeZone={timeZone} />}
      </div>
      {showLegend && legend.displayMode === 'table' ? (
        <div className="legend legend-table" style={legendRight ? { width: legendWidth, maxHeight: height } : { maxHeight: legendHeight }}>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                {(legend.calcs ?? []).map((calc) => (
                  <th key={calc}>{calcName(calc)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {series.map((s, i) => styles[i].hideFromLegend ? null : (
                <tr key={i} className={hidden.has(i) ? 'hidden' : undefined}>
                  <td>
                    <button type="button" className="legend-item" onClick={() => toggle(i)} aria-pressed={!hidden.has(i)}>
                      <span className="legend-swatch" style={{ background: colors[i] }} />
                      {s.name}
                    </button>
                  </td>
                  {(legend.calcs ?? []).map((calc) => (
                    <td key={calc}>{formatValueText(reduce(s.values, calc), units[i], opts.decimals)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : showLegend ? (
        <div className="legend" style={legendRight ? { width: legendWidth, maxHeight: height } : { maxHeight: legendHeight }}>
          {series.map((s, i) => styles[i].hideFromLegend ? null : (
            <button type="button" key={i} className={`legend-item${hidden.has(i) ? ' hidden' : ''}`} onClick={() => toggle(i)} aria-pressed={!hidden.has(i)}>
              <span className="legend-swatch" style={{ background: colors[i] }} />
              {s.name}
              {(legend.calcs ?? []).map((calc) => (
                <span key={calc} className="legend-calc">
                  {' '}
                  {calcName(calc)}: {formatValueText(reduce(s.values, calc), units[i], opts.decimals)}
                </span>
              ))}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

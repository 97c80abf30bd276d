import { reduce, type Series } from '../lib/frames';
import { thresholdColor } from '../lib/thresholds';
import { formatValue } from '../lib/units';
import { displayOptions, reducerOf, type DisplayOptions } from './fieldOptions';
import { seriesColor, withAlpha } from './palette';
import type { PanelProps } from './types';

/** The color of a value: its threshold step unless the panel asks for a fixed color. */
export function valueColor(value: number | null, opts: DisplayOptions, index: number): string {
  if (opts.colorMode === 'fixed' && opts.fixedColor) return opts.fixedColor;
  if (opts.colorMode === 'palette-classic') return seriesColor(index);
  if (value === null) return 'var(--text-weak)';
  return thresholdColor(value, opts.thresholds, opts.min, opts.max);
}

/** A tiny area chart of the series, scaled to its own min and max. */
function Sparkline({ series, color }: { series: Series; color: string }) {
  const points = series.values.map((v, i) => [series.times[i], v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (points.length < 2) return null;
  const [t0, t1] = [points[0][0], points[points.length - 1][0]];
  const ys = points.map((p) => p[1]);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const x = (t: number) => ((t - t0) / (t1 - t0 || 1)) * 100;
  const y = (v: number) => 100 - ((v - lo) / (hi - lo || 1)) * 100;
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(2)},${y(p[1]).toFixed(2)}`).join('');
  return (
    <svg className="stat-sparkline" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
      <path d={`${line}L100,100L0,100Z`} fill={withAlpha(color, 0.25)} stroke="none" />
      <path d={line} fill="none" stroke={color} strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

export function StatPanel({ panel, data, width, height }: PanelProps) {
  const opts = displayOptions(panel);
  const reducer = reducerOf(panel);
  const colorMode = (panel.options?.colorMode as string | undefined) ?? (panel.colorBackground ? 'background' : 'value');
  const graphMode = (panel.options?.graphMode as string | undefined) ?? ((panel.sparkline as { show?: boolean } | undefined)?.show ? 'area' : 'none');
  const series = data.series;
  if (series.length === 0) return <div className="panel-nodata">No data</div>;

  // Share the space between values; the font follows the smaller side of each cell.
  const perRow = Math.max(1, Math.min(series.length, Math.floor(width / 120)));
  const rows = Math.ceil(series.length / perRow);
  const cellHeight = height / rows;
  const fontSize = Math.max(12, Math.min(cellHeight * 0.45, (width / perRow) * 0.18, 80));

  return (
    <div className="stat">
      {series.map((s, i) => {
        const value = reduce(s.values, reducer);
        const formatted = formatValue(value, opts.unit, opts.decimals);
        const color = valueColor(value, opts, i);
        const background = colorMode === 'background' && value !== null;
        return (
          <div key={i} className="stat-item" style={background ? { background: color, color: '#fff' } : undefined}>
            <span className="stat-value" style={{ fontSize, color: background ? undefined : colorMode === 'none' ? 'var(--text)' : color }}>
              {formatted.prefix}
              {formatted.text}
              <span style={{ fontSize: '0.6em' }}>{formatted.suffix}</span>
            </span>
            {series.length > 1 && <span className="stat-name">{s.name}</span>}
            {graphMode === 'area' && <Sparkline series={s} color={background ? '#ffffff' : color} />}
          </div>
        );
      })}
    </div>
  );
}

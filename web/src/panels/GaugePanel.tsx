import { reduce } from '../lib/frames';
import { thresholdLevels } from '../lib/thresholds';
import { formatValueText } from '../lib/units';
import { displayOptions, reducerOf } from './fieldOptions';
import { valueColor } from './StatPanel';
import type { PanelProps } from './types';

// The arc spans 240 degrees, open at the bottom, as Grafana's gauge.
const START = -210;
const SWEEP = 240;

function polar(cx: number, cy: number, r: number, degrees: number): [number, number] {
  const rad = (degrees * Math.PI) / 180;
  return [cx + r * Math.cos(rad), cy + r * Math.sin(rad)];
}

function arc(cx: number, cy: number, r: number, from: number, to: number): string {
  const [x0, y0] = polar(cx, cy, r, from);
  const [x1, y1] = polar(cx, cy, r, to);
  const large = to - from > 180 ? 1 : 0;
  return `M${x0},${y0}A${r},${r} 0 ${large} 1 ${x1},${y1}`;
}

const fraction = (value: number, min: number, max: number) => Math.max(0, Math.min(1, (value - min) / (max - min || 1)));

export function GaugePanel({ panel, data }: PanelProps) {
  const opts = displayOptions(panel);
  const reducer = reducerOf(panel);
  const min = opts.min ?? 0;
  const max = opts.max ?? 100;
  const showMarkers = (panel.options?.showThresholdMarkers as boolean | undefined) ?? true;
  if (data.series.length === 0) return <div className="panel-nodata">No data</div>;
  return (
    <div className="gauges">
      {data.series.map((s, i) => {
        const value = reduce(s.values, reducer);
        const color = valueColor(value, opts, i);
        const end = START + SWEEP * (value === null ? 0 : fraction(value, min, max));
        const levels = thresholdLevels(opts.thresholds, min, max);
        const bands = [{ value: min, color: opts.thresholds?.steps[0]?.color ?? 'green' }, ...levels].map((l, j, all) => ({
          from: START + SWEEP * fraction(l.value, min, max),
          to: START + SWEEP * fraction(all[j + 1]?.value ?? max, min, max),
          color: j === 0 ? valueColor(min, opts, i) : l.color,
        }));
        return (
          <div key={i} className="gauge">
            <svg viewBox="0 0 100 86" role="img" aria-label={`${s.name}: ${formatValueText(value, opts.unit, opts.decimals)}`}>
              <path d={arc(50, 50, 40, START, START + SWEEP)} stroke="var(--bg-hover)" strokeWidth="10" fill="none" />
              {showMarkers && bands.map((b, j) => b.to > b.from && <path key={j} d={arc(50, 50, 47, b.from, b.to)} stroke={b.color} strokeWidth="3" fill="none" />)}
              {value !== null && end > START && <path d={arc(50, 50, 40, START, end)} stroke={color} strokeWidth="10" fill="none" />}
              <text x="50" y="56" textAnchor="middle" fontSize="14" fill={color} fontWeight="500">
                {formatValueText(value, opts.unit, opts.decimals)}
              </text>
              {data.series.length > 1 && (
                <text x="50" y="84" textAnchor="middle" fontSize="7" fill="var(--text-weak)">
                  {s.name}
                </text>
              )}
            </svg>
          </div>
        );
      })}
    </div>
  );
}

export function BarGaugePanel({ panel, data }: PanelProps) {
  const opts = displayOptions(panel);
  const reducer = reducerOf(panel);
  const min = opts.min ?? 0;
  const max = opts.max ?? 100;
  if (data.series.length === 0) return <div className="panel-nodata">No data</div>;
  return (
    <div className="bargauges">
      {data.series.map((s, i) => {
        const value = reduce(s.values, reducer);
        const color = valueColor(value, opts, i);
        const pct = value === null ? 0 : fraction(value, min, max) * 100;
        return (
          <div key={i} className="bargauge">
            <span className="bargauge-name" title={s.name}>
              {s.name}
            </span>
            <div className="bargauge-track" role="meter" aria-label={s.name} aria-valuemin={min} aria-valuemax={max} aria-valuenow={value ?? undefined}>
              <div className="bargauge-fill" style={{ width: `${pct}%`, background: color }} />
            </div>
            <span style={{ color }}>{formatValueText(value, opts.unit, opts.decimals)}</span>
          </div>
        );
      })}
    </div>
  );
}

// Threshold colors as Grafana's fieldConfig describes them: an ordered list of steps whose first
// (the "base") has value null and covers everything below the next step.

export interface ThresholdStep {
  value: number | null;
  color: string;
}

export interface Thresholds {
  mode?: 'absolute' | 'percentage';
  steps: ThresholdStep[];
}

/** Grafana's named palette colors that dashboards commonly use, as hex, so CSS can draw them. */
const NAMED_COLORS: Record<string, string> = {
  green: '#73BF69',
  'dark-green': '#37872D',
  'semi-dark-green': '#56A64B',
  'light-green': '#96D98D',
  'super-light-green': '#C8F2C2',
  red: '#F2495C',
  'dark-red': '#C4162A',
  'semi-dark-red': '#E02F44',
  'light-red': '#FF7383',
  'super-light-red': '#FFA6B0',
  yellow: '#FADE2A',
  'dark-yellow': '#E0B400',
  'semi-dark-yellow': '#F2CC0C',
  'light-yellow': '#FFEE52',
  orange: '#FF9830',
  'dark-orange': '#FA6400',
  'semi-dark-orange': '#FF780A',
  'light-orange': '#FFB357',
  blue: '#5794F2',
  'dark-blue': '#1F60C4',
  'semi-dark-blue': '#3274D9',
  'light-blue': '#8AB8FF',
  purple: '#B877D9',
  'dark-purple': '#8F3BB8',
  'semi-dark-purple': '#A352CC',
  'light-purple': '#CA95E5',
  text: 'var(--text)',
  transparent: 'transparent',
};

/** Resolves a Grafana color name to a CSS color; hex and rgb() values pass through. */
export function resolveColor(color: string): string {
  return NAMED_COLORS[color] ?? color;
}

/** Grafana's default when a field has no thresholds: green base, red from 80. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  mode: 'absolute',
  steps: [
    { value: null, color: 'green' },
    { value: 80, color: 'red' },
  ],
};

/**
 * The step that applies to a value: the last step whose value is at or below it, the base step
 * otherwise. In percentage mode the value is first placed within [min, max] as 0–100.
 */
export function thresholdStepFor(value: number, thresholds: Thresholds = DEFAULT_THRESHOLDS, min?: number, max?: number): ThresholdStep {
  const steps = thresholds.steps.length > 0 ? thresholds.steps : DEFAULT_THRESHOLDS.steps;
  let position = value;
  if (thresholds.mode === 'percentage') {
    const lo = min ?? 0;
    const hi = max ?? 100;
    position = hi === lo ? 0 : ((value - lo) / (hi - lo)) * 100;
  }
  let active = steps[0];
  for (const step of steps) {
    // The base step's value is null (JSON's stand-in for -Infinity).
    const at = step.value ?? -Infinity;
    if (position >= at) active = step;
    else break;
  }
  return active;
}

/** The CSS color for a value. */
export function thresholdColor(value: number, thresholds?: Thresholds, min?: number, max?: number): string {
  return resolveColor(thresholdStepFor(value, thresholds, min, max).color);
}

/** The steps' absolute positions (for threshold lines on a graph), skipping the base step. */
export function thresholdLevels(thresholds: Thresholds | undefined, min?: number, max?: number): { value: number; color: string }[] {
  if (!thresholds) return [];
  return thresholds.steps
    .filter((s): s is { value: number; color: string } => s.value !== null && Number.isFinite(s.value))
    .map((s) => ({
      value: thresholds.mode === 'percentage' ? (min ?? 0) + ((max ?? 100) - (min ?? 0)) * (s.value / 100) : s.value,
      color: resolveColor(s.color),
    }));
}

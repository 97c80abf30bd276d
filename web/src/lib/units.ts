// Formatting of values for `fieldConfig.defaults.unit`, with Grafana's unit ids and output
// (`bytes` is IEC: KiB, MiB; `decbytes` is SI: kB, MB; `short` scales by thousands with K, Mil, Bil).

export type Decimals = number | null | undefined;

export interface FormattedValue {
  text: string;
  suffix?: string;
  prefix?: string;
}

/** Joins a formatted value into one string. */
export function formattedToString(v: FormattedValue): string {
  return `${v.prefix ?? ''}${v.text}${v.suffix ?? ''}`;
}

/**
 * Grafana's automatic decimals: about two significant digits for fractions, none for integers,
 * so 0.01234 shows as 0.012 and 3.456 as 3.46.
 */
function autoDecimals(value: number): number {
  if (value % 1 === 0) return 0;
  const abs = Math.abs(value);
  const magnitude = Math.floor(Math.log10(abs));
  let decimals = -magnitude + 1;
  if (abs / Math.pow(10, magnitude) > 2.25) decimals++;
  return Math.max(0, decimals);
}

/** Rounds to a number of decimals (automatic when not given), keeping trailing zeros when they were asked for. */
export function toFixed(value: number, decimals?: Decimals): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  const explicit = decimals !== null && decimals !== undefined;
  const places = Math.min(20, Math.max(0, explicit ? Math.floor(decimals) : autoDecimals(value)));
  const factor = Math.pow(10, places);
  const rounded = Math.round(value * factor) / factor;
  const text = String(rounded);
  if (text.includes('e') || !explicit) return text;
  return rounded.toFixed(places);
}

type Formatter = (value: number, decimals?: Decimals) => FormattedValue;

/** Scales by `factor` per step and appends the step's suffix (K, M, ... or KiB, MiB, ...). */
function scaled(factor: number, suffixes: readonly string[], offset = 0): Formatter {
  return (value, decimals) => {
    if (!Number.isFinite(value)) return { text: toFixed(value, decimals) };
    let step = value === 0 ? 0 : Math.floor(Math.log(Math.abs(value)) / Math.log(factor));
    step = Math.min(Math.max(step + offset, 0), suffixes.length - 1);
    return { text: toFixed(value / Math.pow(factor, step - offset), decimals), suffix: suffixes[step] };
  };
}

const SI_PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const IEC_PREFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

const decimalSI = (unit: string) => scaled(1000, SI_PREFIXES.map((p) => ` ${p}${unit}`));
const binaryIEC = (unit: string) => scaled(1024, IEC_PREFIXES.map((p) => ` ${p}${unit}`));

/** Counts such as requests per second: `1.5K req/s`. */
function countUnit(symbol: string): Formatter {
  const scale = scaled(1000, ['', 'K', 'M', 'B', 'T']);
  return (value, decimals) => {
    const v = scale(value, decimals);
    return { text: v.text, suffix: `${v.suffix ?? ''} ${symbol}` };
  };
}

const suffix = (s: string): Formatter => (value, decimals) => ({ text: toFixed(value, decimals), suffix: s });

/** Durations climb to the largest unit the value fills, as Grafana's `s` and `ms` do. */
const DURATION_STEPS: readonly [number, string][] = [
  [1, ' ms'],
  [1000, ' s'],
  [60_000, ' min'],
  [3600_000, ' hour'],
  [86400_000, ' day'],
  [604800_000, ' week'],
  [31536000_000, ' year'],
];

function duration(scaleToMs: number): Formatter {
  return (value, decimals) => {
    const ms = value * scaleToMs;
    const abs = Math.abs(ms);
    // Below the input unit the value stays in it (a second value of 0.5 shows as 500 ms; 0.5 ms stays ms).
    let step = DURATION_STEPS.findIndex(([size]) => size === scaleToMs);
    if (abs >= scaleToMs) {
      while (step + 1 < DURATION_STEPS.length && abs >= DURATION_STEPS[step + 1][0]) step++;
    } else {
      while (step > 0 && abs < DURATION_STEPS[step][0]) step--;
    }
    // Grafana keeps days under a week as days (no "week" step) for seconds and milliseconds alike.
    if (DURATION_STEPS[step][1] === ' week' && scaleToMs === 1) step--;
    const [size, name] = DURATION_STEPS[step];
    return { text: toFixed(ms / size, decimals), suffix: name };
  };
}

const FORMATTERS: Record<string, Formatter> = {
  none: (value, decimals) => ({ text: toFixed(value, decimals) }),
  short: scaled(1000, ['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint', ' Sext', ' Sept']),
  percent: suffix('%'),
  percentunit: (value, decimals) => ({ text: toFixed(value * 100, decimals), suffix: '%' }),
  bytes: binaryIEC('B'),
  decbytes: decimalSI('B'),
  bits: binaryIEC('b'),
  decbits: decimalSI('b'),
  kbytes: scaled(1024, IEC_PREFIXES.map((p) => ` ${p}B`), 1),
  deckbytes: scaled(1000, SI_PREFIXES.map((p) => ` ${p}B`), 1),
  bps: decimalSI('bps'),
  Bps: decimalSI('B/s'),
  binBps: binaryIEC('B/s'),
  binbps: binaryIEC('bps'),
  s: duration(1000),
  ms: duration(1),
  reqps: countUnit('req/s'),
  ops: countUnit('ops/s'),
  rps: countUnit('rd/s'),
  wps: countUnit('wr/s'),
  iops: countUnit('io/s'),
  hertz: decimalSI('Hz'),
  celsius: suffix('°C'),
  dateTimeAsIso: (value) => ({ text: new Date(value).toISOString() }),
};

/** Formats a value in a Grafana unit; unknown units fall back to `short` with the unit id as suffix, as `suffix:x` does. */
export function formatValue(value: number | null | undefined, unit?: string, decimals?: Decimals): FormattedValue {
  if (value === null || value === undefined) return { text: '-' };
  const id = unit && unit !== '' ? unit : 'short';
  const formatter = FORMATTERS[id];
  if (formatter) return formatter(value, decimals);
  if (id.startsWith('suffix:')) return suffix(id.slice(7))(value, decimals);
  if (id.startsWith('prefix:')) return { prefix: id.slice(7), text: toFixed(value, decimals) };
  return { text: toFixed(value, decimals), suffix: ` ${id}` };
}

/** Shortcut for a display string. */
export function formatValueText(value: number | null | undefined, unit?: string, decimals?: Decimals): string {
  return formattedToString(formatValue(value, unit, decimals));
}

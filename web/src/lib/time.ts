// Grafana's relative time language ("date math"): `now`, `now-6h`, `now/d`, `now-1d/d`, epoch
// milliseconds and ISO 8601. Rounding (`/unit`) goes to the start of the unit for `from` and to the
// end of it for `to`, so `now/d`..`now/d` is the whole of today, as in Grafana.

export type TimeZone = 'browser' | 'utc';

export type TimeUnit = 'y' | 'M' | 'w' | 'd' | 'h' | 'm' | 's';

const UNITS: readonly TimeUnit[] = ['y', 'M', 'w', 'd', 'h', 'm', 's'];

const FIXED_UNIT_MS: Record<'w' | 'd' | 'h' | 'm' | 's', number> = {
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
};

export interface ParseOptions {
  /** Round up to the end of the unit (for the `to` end of a range). */
  roundUp?: boolean;
  /** Time zone used for calendar rounding (`/d`, `/w`, `/M`, `/y`) and adding months or years. */
  timeZone?: TimeZone;
  /** Current time, for tests. */
  now?: number;
}

/** True when the text is relative to now (`now...`), so the range moves on each refresh. */
export function isRelative(text: string): boolean {
  return text.trim().startsWith('now');
}

/** Parses a time expression into epoch milliseconds, or returns undefined when it is not valid. */
export function parseTime(text: string, options: ParseOptions = {}): number | undefined {
  const input = text.trim();
  if (input === '') return undefined;
  if (/^-?\d+$/.test(input)) return Number(input);
  if (!input.startsWith('now')) {
    const parsed = Date.parse(input);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  const now = options.now ?? Date.now();
  return applyDateMath(now, input.slice(3), options.roundUp ?? false, options.timeZone ?? 'browser');
}

/** Applies operations such as `-1d/d` or `+2h` in order to a start time. */
function applyDateMath(start: number, ops: string, roundUp: boolean, timeZone: TimeZone): number | undefined {
  let time = start;
  let i = 0;
  while (i < ops.length) {
    const op = ops[i++];
    if (op !== '+' && op !== '-' && op !== '/') return undefined;
    let digits = '';
    while (i < ops.length && ops[i] >= '0' && ops[i] <= '9') digits += ops[i++];
    const unit = ops[i++] as TimeUnit;
    if (!UNITS.includes(unit)) return undefined;
    if (op === '/') {
      // Rounding takes no number: `now/5d` is not Grafana syntax.
      if (digits !== '') return undefined;
      time = roundUp ? endOf(time, unit, timeZone) : startOf(time, unit, timeZone);
    } else {
      const amount = digits === '' ? 1 : Number(digits);
      time = add(time, op === '-' ? -amount : amount, unit, timeZone);
    }
  }
  return time;
}

/** Calendar fields in the chosen zone, so rounding to a day means the user's day (or UTC's). */
function fields(time: number, timeZone: TimeZone) {
  const d = new Date(time);
  return timeZone === 'utc'
    ? { y: d.getUTCFullYear(), M: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), m: d.getUTCMinutes(), s: d.getUTCSeconds(), wd: d.getUTCDay() }
    : { y: d.getFullYear(), M: d.getMonth(), d: d.getDate(), h: d.getHours(), m: d.getMinutes(), s: d.getSeconds(), wd: d.getDay() };
}

function compose(timeZone: TimeZone, y: number, M: number, d = 1, h = 0, m = 0, s = 0): number {
  return timeZone === 'utc' ? Date.UTC(y, M, d, h, m, s) : new Date(y, M, d, h, m, s).getTime();
}

function add(time: number, amount: number, unit: TimeUnit, timeZone: TimeZone): number {
  if (unit === 'y' || unit === 'M') {
    const f = fields(time, timeZone);
    const ms = time % 1000;
    const months = unit === 'y' ? amount * 12 : amount;
    // Clamp the day so that Jan 31 + 1M is the end of February, as moment (and so Grafana) does.
    const target = compose(timeZone, f.y, f.M + months, 1);
    const tf = fields(target, timeZone);
    const lastDay = fields(compose(timeZone, tf.y, tf.M + 1, 0), timeZone).d;
    return compose(timeZone, tf.y, tf.M, Math.min(f.d, lastDay), f.h, f.m, f.s) + ms;
  }
  if (unit === 'd' || unit === 'w') {
    // Calendar days keep the wall-clock time across daylight-saving changes in the browser zone.
    const f = fields(time, timeZone);
    const days = unit === 'w' ? amount * 7 : amount;
    return compose(timeZone, f.y, f.M, f.d + days, f.h, f.m, f.s) + (time % 1000);
  }
  return time + amount * FIXED_UNIT_MS[unit];
}

export function startOf(time: number, unit: TimeUnit, timeZone: TimeZone = 'browser'): number {
  const f = fields(time, timeZone);
  switch (unit) {
    case 'y':
      return compose(timeZone, f.y, 0);
    case 'M':
      return compose(timeZone, f.y, f.M);
    case 'w': {
      // Weeks start on Monday (ISO 8601).
      const sinceMonday = (f.wd + 6) % 7;
      return compose(timeZone, f.y, f.M, f.d - sinceMonday);
    }
    case 'd':
      return compose(timeZone, f.y, f.M, f.d);
    case 'h':
      return compose(timeZone, f.y, f.M, f.d, f.h);
    case 'm':
      return compose(timeZone, f.y, f.M, f.d, f.h, f.m);
    case 's':
      return compose(timeZone, f.y, f.M, f.d, f.h, f.m, f.s);
  }
}

/** The last millisecond of the unit containing `time`. */
export function endOf(time: number, unit: TimeUnit, timeZone: TimeZone = 'browser'): number {
  return add(startOf(time, unit, timeZone), 1, unit, timeZone) - 1;
}

export interface RawTimeRange {
  from: string;
  to: string;
}

export interface AbsoluteTimeRange {
  from: number;
  to: number;
}

/** Resolves a raw range to epoch milliseconds; undefined when either end is invalid. */
export function resolveRange(raw: RawTimeRange, timeZone: TimeZone = 'browser', now = Date.now()): AbsoluteTimeRange | undefined {
  const from = parseTime(raw.from, { timeZone, now });
  const to = parseTime(raw.to, { timeZone, now, roundUp: true });
  if (from === undefined || to === undefined) return undefined;
  return { from, to };
}

export interface QuickRange extends RawTimeRange {
  display: string;
}

/** The quick ranges of Grafana's time picker. */
export const QUICK_RANGES: readonly QuickRange[] = [
  { from: 'now-5m', to: 'now', display: 'Last 5 minutes' },
  { from: 'now-15m', to: 'now', display: 'Last 15 minutes' },
  { from: 'now-30m', to: 'now', display: 'Last 30 minutes' },
  { from: 'now-1h', to: 'now', display: 'Last 1 hour' },
  { from: 'now-3h', to: 'now', display: 'Last 3 hours' },
  { from: 'now-6h', to: 'now', display: 'Last 6 hours' },
  { from: 'now-12h', to: 'now', display: 'Last 12 hours' },
  { from: 'now-24h', to: 'now', display: 'Last 24 hours' },
  { from: 'now-2d', to: 'now', display: 'Last 2 days' },
  { from: 'now-7d', to: 'now', display: 'Last 7 days' },
  { from: 'now-30d', to: 'now', display: 'Last 30 days' },
  { from: 'now-90d', to: 'now', display: 'Last 90 days' },
  { from: 'now-6M', to: 'now', display: 'Last 6 months' },
  { from: 'now-1y', to: 'now', display: 'Last 1 year' },
  { from: 'now/d', to: 'now/d', display: 'Today' },
  { from: 'now/d', to: 'now', display: 'Today so far' },
  { from: 'now-1d/d', to: 'now-1d/d', display: 'Yesterday' },
  { from: 'now/w', to: 'now/w', display: 'This week' },
  { from: 'now/w', to: 'now', display: 'This week so far' },
  { from: 'now-1w/w', to: 'now-1w/w', display: 'Previous week' },
  { from: 'now/M', to: 'now/M', display: 'This month' },
  { from: 'now/M', to: 'now', display: 'This month so far' },
  { from: 'now/y', to: 'now/y', display: 'This year' },
];

const UNIT_NAMES: Record<TimeUnit, string> = { y: 'year', M: 'month', w: 'week', d: 'day', h: 'hour', m: 'minute', s: 'second' };

/** A short human label for a raw range: a quick range's name, "Last N units", or the two ends. */
export function describeRange(raw: RawTimeRange, timeZone: TimeZone = 'browser'): string {
  const quick = QUICK_RANGES.find((q) => q.from === raw.from && q.to === raw.to);
  if (quick) return quick.display;
  const last = /^now-(\d+)([yMwdhms])$/.exec(raw.from);
  if (last && raw.to === 'now') {
    const n = Number(last[1]);
    const name = UNIT_NAMES[last[2] as TimeUnit];
    return `Last ${n} ${name}${n === 1 ? '' : 's'}`;
  }
  return `${describeEnd(raw.from, timeZone)} to ${describeEnd(raw.to, timeZone)}`;
}

function describeEnd(text: string, timeZone: TimeZone): string {
  if (isRelative(text)) return text;
  const time = parseTime(text, { timeZone });
  return time === undefined ? text : formatDateTime(time, timeZone);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:mm:ss` in the chosen zone: the format Grafana's picker shows and accepts. */
export function formatDateTime(time: number, timeZone: TimeZone = 'browser'): string {
  const f = fields(time, timeZone);
  return `${f.y}-${pad(f.M + 1)}-${pad(f.d)} ${pad(f.h)}:${pad(f.m)}:${pad(f.s)}`;
}

/** Parses a duration such as `15s`, `1m`, `2h`, `500ms` into milliseconds (Grafana's interval syntax). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)$/.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2];
  if (unit === 'ms') return n;
  if (unit === 'M') return n * 30 * 24 * 3600_000;
  if (unit === 'y') return n * 365 * 24 * 3600_000;
  return n * FIXED_UNIT_MS[unit as keyof typeof FIXED_UNIT_MS];
}

/** Widens a range around its middle (Grafana's "zoom out", `t z`), doubling it by default. */
export function zoomOut(range: AbsoluteTimeRange, factor = 2): AbsoluteTimeRange {
  const span = range.to - range.from;
  const center = range.from + span / 2;
  return { from: Math.round(center - (span * factor) / 2), to: Math.round(center + (span * factor) / 2) };
}

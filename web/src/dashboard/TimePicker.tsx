import { useEffect, useRef, useState, type FormEvent } from 'react';
import { describeRange, formatDateTime, isRelative, parseTime, QUICK_RANGES, type RawTimeRange, type TimeZone } from '../lib/time';

interface Props {
  range: RawTimeRange;
  timeZone: TimeZone;
  onChange: (range: RawTimeRange) => void;
  onZoomOut: () => void;
  onTimeZoneChange: (timeZone: TimeZone) => void;
}

/** Shows an end for editing: relative text as is, absolute times as a readable date. */
const editable = (text: string, timeZone: TimeZone) => {
  if (isRelative(text)) return text;
  const t = parseTime(text, { timeZone });
  return t === undefined ? text : formatDateTime(t, timeZone);
};

/** A typed end back to URL form: relative text as is, a date as epoch ms (as Grafana writes it). */
function toUrlTime(text: string, timeZone: TimeZone, roundUp: boolean): string | undefined {
  const trimmed = text.trim();
  if (isRelative(trimmed)) return parseTime(trimmed, { timeZone, roundUp }) === undefined ? undefined : trimmed;
  // "YYYY-MM-DD HH:mm:ss" is read in the dashboard's zone.
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(trimmed);
  if (local) {
    const [y, mo, d, h = '0', mi = '0', s = '0'] = local.slice(1);
    const args = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
    return String(timeZone === 'utc' ? Date.UTC(...args) : new Date(...args).getTime());
  }
  const t = parseTime(trimmed, { timeZone });
  return t === undefined ? undefined : String(t);
}

export function TimePicker({ range, timeZone, onChange, onZoomOut, onTimeZoneChange }: Props) {
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string>();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const openMenu = () => {
    setFrom(editable(range.from, timeZone));
    setTo(editable(range.to, timeZone));
    setError(undefined);
    setOpen(!open);
  };

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const f = toUrlTime(from, timeZone, false);
    const t = toUrlTime(to, timeZone, true);
    if (f === undefined || t === undefined) {
      setError('Enter a time such as now-6h, now/d or 2024-03-13 14:00:00.');
      return;
    }
    onChange({ from: f, to: t });
    setOpen(false);
  };

  return (
    <div className="time-picker" ref={ref}>
      <button type="button" className="button" data-testid="time-picker" aria-haspopup="dialog" aria-expanded={open} onClick={openMenu}>
        {describeRange(range, timeZone)}
        {timeZone === 'utc' ? ' UTC' : ''}
      </button>
      <button type="button" className="button" data-testid="zoom-out" onClick={onZoomOut} aria-label="Zoom out time range" title="Zoom out (t z)">
        ⊖
      </button>
      {open && (
        <div className="time-picker-menu" role="dialog" aria-label="Time range">
          <form onSubmit={apply}>
            <strong>Absolute time range</strong>
            <label>
              From
              <input data-testid="time-from" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              To
              <input data-testid="time-to" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
            {error && (
              <p className="form-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="button primary" data-testid="time-apply">
              Apply time range
            </button>
            <label>
              Time zone
              <select data-testid="time-zone" value={timeZone} onChange={(e) => onTimeZoneChange(e.target.value as TimeZone)}>
                <option value="browser">Browser time</option>
                <option value="utc">Coordinated Universal Time (UTC)</option>
              </select>
            </label>
          </form>
          <ul aria-label="Quick ranges">
            {QUICK_RANGES.map((q) => (
              <li key={q.display}>
                <button
                  type="button"
                  data-testid="time-range-option"
                  aria-current={q.from === range.from && q.to === range.to}
                  onClick={() => {
                    onChange({ from: q.from, to: q.to });
                    setOpen(false);
                  }}
                >
                  {q.display}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

const AUTO_REFRESH = ['5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '2h', '1d'];

export function RefreshPicker({ refresh, onRefresh, onIntervalChange }: { refresh?: string; onRefresh: () => void; onIntervalChange: (interval: string | undefined) => void }) {
  return (
    <div className="refresh-picker">
      <button type="button" className="button" data-testid="refresh-button" onClick={onRefresh} aria-label="Refresh dashboard" title="Refresh (d r)">
        ⟳ Refresh
      </button>
      <label>
        <span className="visually-hidden">Auto-refresh interval</span>
        <select data-testid="refresh-interval" value={refresh ?? ''} onChange={(e) => onIntervalChange(e.target.value || undefined)}>
          <option value="">Off</option>
          {[...new Set([...(refresh && !AUTO_REFRESH.includes(refresh) ? [refresh] : []), ...AUTO_REFRESH])].map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

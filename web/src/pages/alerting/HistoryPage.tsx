import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ruleStates, stateHistory, type HistoryEntry, type RuleStateGroup } from '../../api/alerting';
import { useLoad } from '../../datasources/useLoad';
import { formatDateTime } from '../../lib/time';
import { formatValue, labelText } from './model';
import { StateBadge } from './common';
import './alerting.css';

const RANGES = [
  { value: '1h', label: 'Last hour', ms: 3600_000 },
  { value: '6h', label: 'Last 6 hours', ms: 6 * 3600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 24 * 3600_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 24 * 3600_000 },
];

/** `/alerting/history` (`?ruleUID=` for one rule, `?range=6h`): every instance's state changes, newest first. */
export function HistoryPage() {
  const [params, setParams] = useSearchParams();
  const ruleUID = params.get('ruleUID') ?? '';
  const rangeKey = params.get('range') ?? '24h';
  const rangeMs = (RANGES.find((r) => r.value === rangeKey) ?? RANGES[2]).ms;
  const [rules] = useLoad<RuleStateGroup[]>('rules', ruleStates);
  // Keyed by the filters only: "now" is taken when they change, so a re-render does not refetch.
  const [history] = useLoad<HistoryEntry[]>(`${ruleUID}|${rangeKey}`, (signal) => stateHistory({ ruleUID: ruleUID || undefined, from: Date.now() - rangeMs, limit: 1000 }, signal));
  const names = useMemo(() => {
    const map = new Map<string, string>();
    if (rules.kind === 'done') for (const g of rules.value) for (const r of g.rules) map.set(r.uid, r.name);
    return map;
  }, [rules]);
  const rows = history.kind === 'done' ? [...history.value].reverse() : [];

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  return (
    <div className="alerting-page" data-testid="alert-history">
      <div className="alerting-header">
        <h1>State history{ruleUID && names.get(ruleUID) ? `: ${names.get(ruleUID)}` : ''}</h1>
      </div>
      <div className="alerting-filters">
        <select aria-label="Rule" data-testid="alert-history-rule" value={ruleUID} onChange={(e) => setParam('ruleUID', e.target.value)}>
          <option value="">All rules</option>
          {ruleUID && !names.has(ruleUID) && <option value={ruleUID}>{ruleUID}</option>}
          {[...names].map(([uid, name]) => (
            <option key={uid} value={uid}>
              {name}
            </option>
          ))}
        </select>
        <select aria-label="Time range" data-testid="alert-history-range" value={rangeKey} onChange={(e) => setParam('range', e.target.value)}>
          {RANGES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      {history.kind === 'loading' && <div className="page-loading" aria-busy="true" />}
      {history.kind === 'error' && (
        <p className="form-error" role="alert">
          {history.message}
        </p>
      )}
      {history.kind === 'done' && rows.length === 0 && <p className="empty-state">No state changes in this range.</p>}
      {rows.length > 0 && (
        <table className="history-table" data-testid="alert-history-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Rule</th>
              <th>Labels</th>
              <th>State change</th>
              <th>Values</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((entry, i) => (
              <tr key={`${entry.time}-${i}`} data-testid="alert-history-row" data-rule={entry.ruleUID}>
                <td className="nowrap">{formatDateTime(entry.time)}</td>
                <td>
                  <Link to={`/alerting/history?ruleUID=${encodeURIComponent(entry.ruleUID)}`}>{names.get(entry.ruleUID) ?? entry.ruleUID}</Link>
                </td>
                <td>{labelText(ownLabels(entry.labels)) || '{}'}</td>
                <td>
                  <span className="transition">
                    <StateBadge state={baseState(entry.previous)} /> → <StateBadge state={baseState(entry.current)} />
                  </span>
                </td>
                <td className="nowrap">
                  {Object.entries(entry.values)
                    .map(([k, v]) => `${k}=${formatValue(v)}`)
                    .join(', ') || '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The instance's labels without those every instance of a rule has (its name and folder are in the Rule column). */
function ownLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'alertname' && k !== 'grafana_folder'));
}

/** Grafana writes reasons after the state (`Normal (MissingSeries)`); the badge shows the state. */
function baseState(state: string): string {
  return state.split(/[\s(]/)[0] || state;
}

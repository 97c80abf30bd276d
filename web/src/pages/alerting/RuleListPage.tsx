import { Fragment, useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ruleStates, type RuleState, type RuleStateGroup } from '../../api/alerting';
import { byFolder, filterGroups, formatValue, instanceCounts, labelText, ruleDisplayState, STATES, type DisplayState } from './model';
import { StateBadge, useCanEditRules } from './common';
import './alerting.css';

/** How often the list reloads the states (the scheduler evaluates every 10 s at the fastest). */
const REFRESH_MS = 15_000;

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'done'; groups: RuleStateGroup[] };

/** `/alerting/list`: every rule by folder and group, with its state, instance counts and health. */
export function RuleListPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const state = (params.get('state') ?? '') as DisplayState | '';
  const folderUid = params.get('folder') ?? '';
  const canEdit = useCanEditRules();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });

  useEffect(() => {
    let abort = new AbortController();
    const fetchStates = () => {
      abort.abort();
      abort = new AbortController();
      ruleStates(abort.signal)
        .then((groups) => setLoad({ kind: 'done', groups }))
        .catch((e: unknown) => {
          if (!abort.signal.aborted) setLoad({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
        });
    };
    fetchStates();
    const timer = setInterval(fetchStates, REFRESH_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, []);

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const all = useMemo(() => (load.kind === 'done' ? load.groups : []), [load]);
  const folders = useMemo(() => byFolder(all).map((f) => ({ uid: f.folderUid, title: f.title })), [all]);
  const shown = useMemo(() => byFolder(filterGroups(all, { search, state, folderUid })), [all, search, state, folderUid]);
  const ruleCount = all.reduce((n, g) => n + g.rules.length, 0);
  const byState = useMemo(() => {
    const counts = new Map<DisplayState, number>();
    for (const g of all) for (const r of g.rules) counts.set(ruleDisplayState(r), (counts.get(ruleDisplayState(r)) ?? 0) + 1);
    return counts;
  }, [all]);

  return (
    <div className="alerting-page" data-testid="alert-rule-list">
      <div className="alerting-header">
        <h1>Alert rules</h1>
        {canEdit && (
          <Link to="/alerting/new" className="button primary" data-testid="alert-rule-new">
            New alert rule
          </Link>
        )}
      </div>
      {load.kind === 'loading' && <div className="page-loading" aria-busy="true" />}
      {load.kind === 'error' && (
        <p className="form-error" role="alert">
          {load.message}
        </p>
      )}
      {load.kind === 'done' && ruleCount === 0 && (
        <div className="empty-state" data-testid="alert-rule-empty">
          <p>You have not created any alert rules yet.</p>
          {canEdit && (
            <Link to="/alerting/new" className="button primary">
              New alert rule
            </Link>
          )}
        </div>
      )}
      {load.kind === 'done' && ruleCount > 0 && (
        <>
          <div className="alerting-filters">
            <input className="grow" type="search" placeholder="Search by title or label (team=ops)" aria-label="Search rules" data-testid="alert-rule-search" value={search} onChange={(e) => setParam('search', e.target.value)} />
            <select aria-label="State" data-testid="alert-rule-state-filter" value={state} onChange={(e) => setParam('state', e.target.value)}>
              <option value="">Any state</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s === 'NoData' ? 'No data' : s}
                </option>
              ))}
            </select>
            <select aria-label="Folder" data-testid="alert-rule-folder-filter" value={folderUid} onChange={(e) => setParam('folder', e.target.value)}>
              <option value="">All folders</option>
              {folders.map((f) => (
                <option key={f.uid} value={f.uid}>
                  {f.title}
                </option>
              ))}
            </select>
          </div>
          <div className="alerting-summary" data-testid="alert-rule-summary">
            <span>{ruleCount === 1 ? '1 rule' : `${ruleCount} rules`}</span>
            {STATES.filter((s) => byState.get(s)).map((s) => (
              <span key={s}>
                {byState.get(s)} {s === 'NoData' ? 'no data' : s.toLowerCase()}
              </span>
            ))}
          </div>
          {shown.length === 0 && <p className="empty-state">No rule matches the filters.</p>}
          {shown.map((folder) => (
            <section key={folder.folderUid} className="rule-folder" data-testid="alert-rule-folder">
              <h2>
                <svg className="folder-icon" viewBox="0 0 16 16" aria-hidden="true">
                  <path d="M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z" />
                </svg>
                {folder.title}
              </h2>
              {folder.groups.map((group) => (
                <RuleGroupTable key={group.name} group={group} canEdit={canEdit === true} />
              ))}
            </section>
          ))}
        </>
      )}
    </div>
  );
}

function intervalText(seconds: number): string {
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function RuleGroupTable({ group, canEdit }: { group: RuleStateGroup; canEdit: boolean }) {
  return (
    <div className="rule-group" data-testid="alert-rule-group" data-group={group.name}>
      <div className="rule-group-header">
        {group.name}
        <span className="muted">every {intervalText(group.interval)}</span>
      </div>
      <table className="rule-table">
        <thead>
          <tr>
            <th style={{ width: 32 }} aria-label="Instances" />
            <th style={{ width: 110 }}>State</th>
            <th>Name</th>
            <th style={{ width: 190 }}>Instances</th>
            <th style={{ width: 80 }}>Health</th>
            <th style={{ width: '22%' }}>Labels</th>
            <th style={{ width: 160 }} aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {group.rules.map((rule) => (
            <RuleRow key={rule.uid} rule={rule} canEdit={canEdit} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RuleRow({ rule, canEdit }: { rule: RuleState; canEdit: boolean }) {
  const [open, setOpen] = useState(false);
  const state = ruleDisplayState(rule);
  const counts = instanceCounts(rule);
  return (
    <Fragment>
      <tr data-testid="alert-rule-row" data-uid={rule.uid} data-state={state}>
        <td>
          <button type="button" className="expand" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} instances of ${rule.name}`} onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </button>
        </td>
        <td>
          <StateBadge state={state} testId="alert-rule-state" />
          {rule.isPaused && <span className="health-text"> paused</span>}
        </td>
        <td className="rule-name" data-testid="alert-rule-title">
          {rule.name}
        </td>
        <td className="counts" data-testid="alert-rule-counts">
          {counts.length === 0 ? 'not evaluated yet' : counts.map(([s, n]) => `${n} ${s === 'NoData' ? 'no data' : s.toLowerCase()}`).join(', ')}
        </td>
        <td>
          <span className={`health-text${rule.health === 'error' ? ' error' : ''}`} title={rule.lastError || undefined}>
            {rule.health}
          </span>
        </td>
        <td>
          <div className="label-chips">
            {Object.entries(rule.labels ?? {}).map(([k, v]) => (
              <span key={k} className="label-chip">
                {k}={v}
              </span>
            ))}
          </div>
        </td>
        <td>
          <div className="actions">
            {canEdit && (
              <Link to={`/alerting/${encodeURIComponent(rule.uid)}/edit`} className="button" data-testid="alert-rule-edit">
                Edit
              </Link>
            )}
            <Link to={`/alerting/history?ruleUID=${encodeURIComponent(rule.uid)}`} className="button" data-testid="alert-rule-history">
              History
            </Link>
          </div>
        </td>
      </tr>
      {open && (
        <tr className="rule-instances">
          <td colSpan={7}>
            {rule.lastError && <p className="form-error">{rule.lastError}</p>}
            {rule.alerts.length === 0 ? (
              <span className="muted">No instances yet.</span>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>State</th>
                    <th>Labels</th>
                    <th>Value</th>
                    <th>Active since</th>
                  </tr>
                </thead>
                <tbody>
                  {rule.alerts.map((a, i) => (
                    <tr key={i} data-testid="alert-rule-instance">
                      <td>
                        <StateBadge state={a.state} />
                      </td>
                      <td>{labelText(a.labels) || '{}'}</td>
                      <td>{a.value ? formatValue(Number(a.value)) : '–'}</td>
                      <td>{a.activeAt.startsWith('0001') ? '–' : new Date(a.activeAt).toLocaleString()}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </td>
        </tr>
      )}
    </Fragment>
  );
}

// The dashboard's state in the URL, with Grafana's parameter names, so a Grafana link with the same
// uid opens the same view: from, to, var-<name> (repeated for multi-value), refresh, viewPanel, kiosk,
// and while editing editPanel, editview (settings, variables, versions, json) and inspect/inspectTab.

export interface DashboardUrlState {
  from?: string;
  to?: string;
  /** Variable values by name; a multi-value variable has several. */
  variables: Record<string, string[]>;
  refresh?: string;
  viewPanel?: string;
  /** The panel open in the panel editor. */
  editPanel?: string;
  /** The dashboard settings page open: `settings`, `variables`, `versions`, `json`, ... */
  editview?: string;
  /** The panel whose inspect drawer is open, and its tab (`data`, `query`, `json`). */
  inspect?: string;
  inspectTab?: string;
  /** `browser` or `utc` (Grafana's `timezone=`), overriding the dashboard's own. */
  timezone?: string;
  /** Kiosk mode: `true` for plain `kiosk`, or its value (`tv`). */
  kiosk?: true | string;
  /** Parameters we do not interpret (orgId, timezone, ...), kept in order so links survive a round trip. */
  other: [string, string][];
}

const VAR_PREFIX = 'var-';

export function parseUrlState(search: string | URLSearchParams): DashboardUrlState {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const state: DashboardUrlState = { variables: {}, other: [] };
  for (const [key, value] of params) {
    if (key.startsWith(VAR_PREFIX) && key.length > VAR_PREFIX.length) {
      const name = key.slice(VAR_PREFIX.length);
      (state.variables[name] ??= []).push(value);
      continue;
    }
    switch (key) {
      case 'from':
      case 'to':
      case 'refresh':
      case 'viewPanel':
      case 'editPanel':
      case 'editview':
      case 'inspect':
      case 'inspectTab':
      case 'timezone':
        state[key] = value;
        break;
      case 'kiosk':
        // Grafana treats `kiosk`, `kiosk=` and `kiosk=1` alike as full kiosk mode.
        state.kiosk = value === '' || value === '1' || value === 'true' ? true : value;
        break;
      default:
        state.other.push([key, value]);
    }
  }
  return state;
}

export function serializeUrlState(state: DashboardUrlState): string {
  const params = new URLSearchParams();
  for (const [k, v] of state.other) params.append(k, v);
  if (state.from !== undefined) params.set('from', state.from);
  if (state.to !== undefined) params.set('to', state.to);
  if (state.timezone) params.set('timezone', state.timezone);
  for (const [name, values] of Object.entries(state.variables)) {
    for (const value of values) params.append(VAR_PREFIX + name, value);
  }
  if (state.refresh) params.set('refresh', state.refresh);
  if (state.viewPanel) params.set('viewPanel', state.viewPanel);
  if (state.editPanel) params.set('editPanel', state.editPanel);
  if (state.editview) params.set('editview', state.editview);
  if (state.inspect) params.set('inspect', state.inspect);
  if (state.inspectTab) params.set('inspectTab', state.inspectTab);
  let query = params.toString();
  // A bare `kiosk` (no `=`) is how Grafana writes it.
  if (state.kiosk === true) query += (query ? '&' : '') + 'kiosk';
  else if (state.kiosk) query += (query ? '&' : '') + 'kiosk=' + encodeURIComponent(state.kiosk);
  return query;
}

/** Returns a copy of the state with changes applied; variables given replace those of the same name. */
export function updateUrlState(state: DashboardUrlState, changes: Partial<Omit<DashboardUrlState, 'other'>>): DashboardUrlState {
  return {
    ...state,
    ...changes,
    variables: { ...state.variables, ...(changes.variables ?? {}) },
  };
}

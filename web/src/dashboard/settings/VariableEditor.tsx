import { useEffect, useMemo, useState } from 'react';
import { frontendSettings, type FrontendDatasource } from '../../api/query';
import { queryText, type VariableModel } from '../../lib/variables';
import { useDashboardEditor } from '../editor';
import { useVariables } from '../useVariables';
import { changeType, nameError, TYPE_LABELS, VARIABLE_TYPES, withQueryText, type VariableType } from './variableModel';
import { useDebouncedValue } from '../../app/useDebouncedValue';

const SORTS = [
  [0, 'Disabled'],
  [1, 'Alphabetical (asc)'],
  [2, 'Alphabetical (desc)'],
  [3, 'Numerical (asc)'],
  [4, 'Numerical (desc)'],
  [5, 'Alphabetical (case-insensitive, asc)'],
  [6, 'Alphabetical (case-insensitive, desc)'],
  [7, 'Natural (asc)'],
  [8, 'Natural (desc)'],
] as const;

/** Hints for the `query` field, by type. */
const QUERY_LABELS: Partial<Record<VariableType, string>> = {
  custom: 'Values separated by comma (text : value pairs allowed)',
  constant: 'Value',
  interval: 'Values (intervals separated by comma)',
  textbox: 'Default value',
};

/** Edits `templating.list[index]` in the working copy, field by field, with a preview of its values. */
export function VariableEditor({ index, onBack }: { index: number; onBack: () => void }) {
  const { dashboard, update } = useDashboardEditor();
  const list = useMemo(() => dashboard.templating?.list ?? [], [dashboard.templating?.list]);
  const v = list[index];
  // The name applies only once valid: an invalid or duplicate name would break references meanwhile.
  const [name, setName] = useState(v?.name ?? '');
  const error = nameError(name, list, index);

  if (!v) return null;
  const change = (next: (v: VariableModel) => VariableModel) =>
    update((d) => {
      const current = d.templating?.list ?? [];
      return { ...d, templating: { ...d.templating, list: current.map((item, i) => (i === index ? next(item) : item)) } };
    });
  const set = (patch: Partial<VariableModel> & Record<string, unknown>) => change((item) => ({ ...item, ...patch }));
  const type = v.type as VariableType;
  const extra = v as VariableModel & Record<string, unknown>;
  const selectable = type === 'query' || type === 'custom' || type === 'datasource';

  return (
    <div className="settings-form wide variable-editor">
      <div className="settings-heading">
        <button type="button" className="button ghost" data-testid="variable-back" onClick={onBack}>
          ← Variables
        </button>
        <h2>Edit variable</h2>
      </div>

      <h3>General</h3>
      <div className="settings-row">
        <label>
          Name
          <input
            data-testid="variable-name"
            value={name}
            aria-invalid={!!error}
            onChange={(e) => {
              setName(e.target.value);
              if (!nameError(e.target.value, list, index)) set({ name: e.target.value });
            }}
          />
          {error && <span className="field-error" data-testid="variable-name-error">{error}</span>}
        </label>
        <label>
          Type
          <select data-testid="variable-type" value={type} onChange={(e) => change((item) => changeType(item, e.target.value as VariableType))}>
            {VARIABLE_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
            {!VARIABLE_TYPES.includes(type) && <option value={type}>{type}</option>}
          </select>
        </label>
      </div>
      <div className="settings-row">
        <label>
          Label
          <input data-testid="variable-label" value={v.label ?? ''} onChange={(e) => set({ label: e.target.value || undefined })} />
        </label>
        <label>
          Hide
          <select data-testid="variable-hide" value={v.hide ?? 0} onChange={(e) => set({ hide: Number(e.target.value) })}>
            <option value={0}>Nothing (label and value shown)</option>
            <option value={1}>Label</option>
            <option value={2}>Variable</option>
          </select>
        </label>
      </div>
      <label>
        Description
        <input data-testid="variable-description" value={v.description ?? ''} onChange={(e) => set({ description: e.target.value || undefined })} />
      </label>

      <h3>{TYPE_LABELS[type] ?? type} options</h3>
      {type === 'query' && (
        <>
          <label>
            Data source
            <DatasourceSelect value={v.datasource} onChange={(datasource) => set({ datasource })} />
          </label>
          <label>
            Query
            <textarea
              data-testid="variable-query"
              className="mono"
              rows={3}
              value={queryText(v)}
              placeholder="label_values(up, job)"
              onChange={(e) => change((item) => withQueryText(item, e.target.value))}
            />
            <span className="settings-hint">Prometheus: label_names(), label_values(label), label_values(metric, label), metrics(regex), query_result(query).</span>
          </label>
          <label>
            Regex
            <input data-testid="variable-regex" className="mono" value={v.regex ?? ''} placeholder="/.*-(?<text>.*)-(?<value>.*)-.*/" onChange={(e) => set({ regex: e.target.value })} />
          </label>
          <div className="settings-row">
            <label>
              Sort
              <select data-testid="variable-sort" value={v.sort ?? 0} onChange={(e) => set({ sort: Number(e.target.value) })}>
                {SORTS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Refresh
              <select data-testid="variable-refresh" value={v.refresh === 2 ? 2 : 1} onChange={(e) => set({ refresh: Number(e.target.value) })}>
                <option value={1}>On dashboard load</option>
                <option value={2}>On time range change</option>
              </select>
            </label>
          </div>
        </>
      )}
      {type === 'datasource' && (
        <>
          <label>
            Type
            <DatasourceTypeSelect value={queryText(v)} onChange={(t) => change((item) => withQueryText(item, t))} />
          </label>
          <label>
            Instance name filter (regex)
            <input data-testid="variable-regex" className="mono" value={v.regex ?? ''} onChange={(e) => set({ regex: e.target.value })} />
          </label>
        </>
      )}
      {(type === 'custom' || type === 'constant' || type === 'textbox' || type === 'interval') && (
        <label>
          {QUERY_LABELS[type]}
          <input data-testid="variable-query" value={queryText(v)} onChange={(e) => change((item) => withQueryText(item, e.target.value))} />
        </label>
      )}
      {type === 'interval' && (
        <div className="settings-row">
          <label className="checkbox">
            <input type="checkbox" data-testid="variable-auto" checked={extra.auto === true} onChange={(e) => set({ auto: e.target.checked })} /> Auto option
          </label>
          {extra.auto === true && (
            <>
              <label>
                Step count
                <input type="number" min={1} data-testid="variable-auto-count" value={Number(extra.auto_count ?? 30)} onChange={(e) => set({ auto_count: Math.max(1, Number(e.target.value) || 1) })} />
              </label>
              <label>
                Min interval
                <input data-testid="variable-auto-min" value={String(extra.auto_min ?? '10s')} onChange={(e) => set({ auto_min: e.target.value })} />
              </label>
            </>
          )}
        </div>
      )}

      {selectable && (
        <>
          <h3>Selection options</h3>
          <label className="checkbox">
            <input type="checkbox" data-testid="variable-multi" checked={v.multi === true} onChange={(e) => set({ multi: e.target.checked })} /> Multi-value
          </label>
          <label className="checkbox">
            <input type="checkbox" data-testid="variable-include-all" checked={v.includeAll === true} onChange={(e) => set({ includeAll: e.target.checked })} /> Include All option
          </label>
          {v.includeAll && (
            <label>
              Custom all value
              <input data-testid="variable-all-value" className="mono" value={v.allValue ?? ''} placeholder="blank = every value" onChange={(e) => set({ allValue: e.target.value || null })} />
            </label>
          )}
        </>
      )}

      <Preview list={list} name={v.name} range={dashboard.time} />
    </div>
  );
}

/** The variable's values, resolved as the dashboard resolves them (the variables before it included). */
function Preview({ list, name, range }: { list: VariableModel[]; name: string; range?: { from: string; to: string } }) {
  // Typing a query should not send a request per keystroke: resolve once the list rests.
  const settled = useDebouncedValue(list, PREVIEW_DELAY_MS);
  const resolved = useVariables(settled, NO_URL_VALUES, range ?? DEFAULT_RANGE);
  const pending = settled !== list;
  // The state of exactly this version of the variable: an older resolution's state is not its preview.
  const current = settled.find((v) => v.name === name);
  const state = current ? resolved.states.find((s) => s.model === current) : undefined;
  const shown = state?.options.slice(0, 50) ?? [];
  return (
    <section className="variable-preview" data-testid="variable-preview" data-state={pending || !state ? 'loading' : state?.error ? 'error' : 'done'} aria-live="polite">
      <h3>Preview of values</h3>
      {pending || !state ? (
        <p className="settings-hint">Loading…</p>
      ) : state.error ? (
        <p className="field-error">{state.error}</p>
      ) : state.options.length === 0 ? (
        <p className="settings-hint">No values.</p>
      ) : (
        <div className="preview-values">
          {shown.map((o, i) => (
            <span key={i} className="tag-chip" title={o.value}>
              {o.text}
            </span>
          ))}
          {state.options.length > shown.length && <span className="settings-hint">and {state.options.length - shown.length} more</span>}
        </div>
      )}
    </section>
  );
}

const NO_URL_VALUES: Record<string, string[]> = {};
const PREVIEW_DELAY_MS = 400;
const DEFAULT_RANGE = { from: 'now-6h', to: 'now' };

function useDatasources(): FrontendDatasource[] | undefined {
  const [list, setList] = useState<FrontendDatasource[]>();
  useEffect(() => {
    let cancelled = false;
    frontendSettings()
      .then((s) => !cancelled && setList(Object.values(s.datasources).filter((ds) => ds.uid)))
      .catch(() => !cancelled && setList([]));
    return () => {
      cancelled = true;
    };
  }, []);
  return list;
}

/** The org's datasources by uid; a datasource stored by name (old dashboards) is matched and kept until changed. */
function DatasourceSelect({ value, onChange }: { value: VariableModel['datasource']; onChange: (ds: VariableModel['datasource']) => void }) {
  const datasources = useDatasources() ?? [];
  const key = value == null ? '' : typeof value === 'string' ? (datasources.find((d) => d.name === value || d.uid === value)?.uid ?? value) : (value.uid ?? '');
  const known = key === '' || datasources.some((d) => d.uid === key);
  return (
    <select
      data-testid="variable-datasource"
      value={key}
      onChange={(e) => {
        const ds = datasources.find((d) => d.uid === e.target.value);
        onChange(ds ? { type: ds.type, uid: ds.uid } : null);
      }}
    >
      <option value="">Default</option>
      {!known && <option value={key}>{key}</option>}
      {datasources.map((d) => (
        <option key={d.uid} value={d.uid}>
          {d.name} ({d.type})
        </option>
      ))}
    </select>
  );
}

const KNOWN_TYPES = ['prometheus', 'influxdb', 'grafana-testdata-datasource'];

function DatasourceTypeSelect({ value, onChange }: { value: string; onChange: (type: string) => void }) {
  const datasources = useDatasources() ?? [];
  const types = [...new Set([...KNOWN_TYPES, ...datasources.map((d) => d.type), ...(value ? [value] : [])])].sort();
  return (
    <select data-testid="variable-query" value={value} onChange={(e) => onChange(e.target.value)}>
      {!value && <option value="">Choose a type</option>}
      {types.map((t) => (
        <option key={t} value={t}>
          {t}
        </option>
      ))}
    </select>
  );
}

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { createRule, deleteRule, evaluateRule, getRule, ruleStates, setGroupInterval, updateRule, type EvalResponse, type RuleStateGroup } from '../../api/alerting';
import { ApiError } from '../../api/client';
import { createFolder, listFolders, type FolderSummary } from '../../api/folders';
import { Modal } from '../../app/dialog/Modal';
import { useDatasources } from '../../editor/panel/useDatasources';
import { QueryEditor } from '../../editor/queries';
import { framesToSeries, lastValue, type Series } from '../../lib/frames';
import { TimeSeriesPanel } from '../../panels/TimeSeriesPanel';
import { StateBadge, useCanEditRules } from './common';
import {
  durationSeconds,
  EVALUATORS,
  formProblems,
  formToData,
  secondsToDuration,
  formToRule,
  formatValue,
  labelText,
  newExpression,
  newRuleForm,
  nextRefId,
  REDUCERS,
  ruleToForm,
  type ExpressionForm,
  type ExpressionKind,
  type KeyValue,
  type QueryForm,
  type RuleForm,
} from './model';
import './alerting.css';

const NEW_GROUP = '\u0000new';

type Loaded = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready' };
type Preview = { kind: 'idle' } | { kind: 'running' } | { kind: 'error'; message: string } | { kind: 'done'; answer: EvalResponse };

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `/alerting/new` and `/alerting/:uid/edit`: the rule editor with a live preview. */
export function RuleEditorPage() {
  const { uid } = useParams();
  const navigate = useNavigate();
  const canEdit = useCanEditRules();
  const datasources = useDatasources();
  const queryDatasources = useMemo(() => datasources.list.filter((d) => d.type !== '__expr__'), [datasources.list]);
  const [draft, setForm] = useState<RuleForm>(() => newRuleForm());
  const [loaded, setLoaded] = useState<Loaded>(uid ? { kind: 'loading' } : { kind: 'ready' });
  const [folders, setFolders] = useState<FolderSummary[]>([]);
  const [groups, setGroups] = useState<RuleStateGroup[]>([]);
  const [creatingGroup, setCreatingGroup] = useState(!uid);
  const [preview, setPreview] = useState<Preview>({ kind: 'idle' });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const [problems, setProblems] = useState<string[]>([]);
  const [confirmDelete, setConfirmDelete] = useState(false);

  // Folders and the existing groups (for the group picker).
  useEffect(() => {
    const abort = new AbortController();
    listFolders(abort.signal)
      .then((list) => {
        setFolders(list);
        // A new rule starts in the first folder, as Grafana preselects one.
        if (!uid && list.length > 0) setForm((f) => (f.folderUid ? f : { ...f, folderUid: list[0].uid }));
      })
      .catch(() => undefined);
    ruleStates(abort.signal)
      .then(setGroups)
      .catch(() => undefined);
    return () => abort.abort();
  }, [uid]);

  // The rule being edited; its datasources' types come from the datasource list once it is there.
  useEffect(() => {
    if (!uid || datasources.loading) return;
    const abort = new AbortController();
    getRule(uid, abort.signal)
      .then((rule) => {
        setForm(ruleToForm(rule, (dsUid) => datasources.list.find((d) => d.uid === dsUid)?.type));
        setCreatingGroup(false);
        setLoaded({ kind: 'ready' });
      })
      .catch((e: unknown) => !abort.signal.aborted && setLoaded({ kind: 'error', message: errorText(e) }));
    return () => abort.abort();
  }, [uid, datasources.loading, datasources.list]);

  // A query without a datasource (a new rule's first, before the list arrived) uses the default one.
  const preferred = queryDatasources.find((d) => d.isDefault) ?? queryDatasources[0];
  const form = useMemo(
    () => (preferred ? { ...draft, queries: draft.queries.map((q) => (q.datasourceUid ? q : { ...q, datasourceUid: preferred.uid, datasourceType: preferred.type })) } : draft),
    [draft, preferred],
  );

  const folderGroups = groups.filter((g) => g.folderUid === form.folderUid);
  const existingGroup = folderGroups.find((g) => g.name === form.group.trim());
  // The interval field shows the chosen group's own until it is edited; a new group's default is 1m.
  const groupIntervalShown = form.groupInterval.trim() || (existingGroup ? secondsToDuration(existingGroup.interval) : '1m');
  const refIds = [...form.queries.map((q) => q.refId), ...form.expressions.map((e) => e.refId)];
  const update = (patch: Partial<RuleForm>) => setForm((f) => ({ ...f, ...patch }));
  const setQuery = (i: number, q: QueryForm) => setForm((f) => ({ ...f, queries: f.queries.map((old, j) => (j === i ? q : old)) }));
  const setExpression = (i: number, e: ExpressionForm) => setForm((f) => ({ ...f, expressions: f.expressions.map((old, j) => (j === i ? e : old)) }));

  // The preview runs with the form as it is at the moment of the click (a ref avoids stale closures
  // when a query editor's Shift+Enter changes the form and runs in the same tick).
  const formRef = useRef(form);
  useLayoutEffect(() => {
    formRef.current = form;
  });
  const runPreview = () => {
    // The preview runs the queries on the server, which takes the Editor role.
    if (canEdit === false) return;
    setPreview({ kind: 'running' });
    // Let a query editor's pending onChange land in state before reading the form.
    setTimeout(() => {
      const current = formRef.current;
      evaluateRule(formToData(current), current.condition)
        .then((answer) => setPreview({ kind: 'done', answer }))
        .catch((e: unknown) => setPreview({ kind: 'error', message: errorText(e) }));
    }, 0);
  };

  const save = async () => {
    const found = formProblems({ ...form, groupInterval: groupIntervalShown });
    setProblems(found);
    setSaveError(undefined);
    if (found.length > 0) return;
    setSaving(true);
    try {
      const rule = formToRule(form);
      if (form.uid) await updateRule(form.uid, rule);
      else await createRule(rule);
      // A new group is created with the server's default interval (1m): a different one, or an
      // existing group's changed interval, is set on the group after the rule is saved into it.
      const interval = durationSeconds(groupIntervalShown);
      const current = existingGroup?.interval ?? 60;
      if (interval && interval !== current) await setGroupInterval(form.folderUid, form.group.trim(), interval);
      navigate('/alerting/list');
    } catch (e) {
      setSaveError(e instanceof ApiError && e.status === 409 ? `${e.message}` : errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!form.uid) return;
    try {
      await deleteRule(form.uid);
      navigate('/alerting/list');
    } catch (e) {
      setConfirmDelete(false);
      setSaveError(errorText(e));
    }
  };

  if (loaded.kind === 'loading') return <div className="page-loading" aria-busy="true" />;
  if (loaded.kind === 'error')
    return (
      <div className="alerting-page">
        <p className="form-error" role="alert">
          {loaded.message}
        </p>
        <Link to="/alerting/list">Back to alert rules</Link>
      </div>
    );

  const readOnly = canEdit === false;
  return (
    <div className="alerting-page rule-editor" data-testid="alert-rule-editor">
      <div className="alerting-header">
        <h1>{form.uid ? `Edit rule: ${form.title}` : 'New alert rule'}</h1>
        <Link to="/alerting/list">Back to alert rules</Link>
      </div>
      {readOnly && <p className="form-error">You can view this rule; changing alert rules needs the Editor role.</p>}
      {form.provenance && (
        <p className="hint" data-testid="alert-rule-provenance">
          This rule was provisioned ({form.provenance}). Saving it here makes it a rule managed in the UI; the tool that provisioned it may overwrite it again.
        </p>
      )}

      <section className="rule-section">
        <h2>1. Name</h2>
        <label className="rule-field wide">
          Rule name
          <input data-testid="alert-rule-title-input" value={form.title} onChange={(e) => update({ title: e.target.value })} placeholder="High CPU load" />
        </label>
      </section>

      <section className="rule-section">
        <h2>2. Queries and conditions</h2>
        <p className="hint">Queries fetch series; expressions reduce them to one number per series and test it. The condition is the step whose result decides the alert, one instance per series.</p>
        {form.queries.map((q, i) => (
          <div key={q.refId + i} className="rule-query" data-testid="alert-rule-query" data-ref={q.refId}>
            <div className="rule-query-header">
              <span className="ref">{q.refId}</span>
              <select
                aria-label={`Data source of ${q.refId}`}
                data-testid="alert-rule-query-datasource"
                value={q.datasourceUid}
                onChange={(e) => {
                  const ds = queryDatasources.find((d) => d.uid === e.target.value);
                  // Another datasource type cannot read this model: start it empty.
                  setQuery(i, { ...q, datasourceUid: e.target.value, datasourceType: ds?.type ?? '', model: ds?.type === q.datasourceType ? q.model : {} });
                }}
              >
                {!q.datasourceUid && <option value="">Choose a data source</option>}
                {queryDatasources.map((d) => (
                  <option key={d.uid} value={d.uid}>
                    {d.name}
                  </option>
                ))}
                {q.datasourceUid && !queryDatasources.some((d) => d.uid === q.datasourceUid) && <option value={q.datasourceUid}>{q.datasourceUid} (not found)</option>}
              </select>
              <label className="inline-label">
                Range
                <input aria-label={`Time range of ${q.refId}`} data-testid="alert-rule-query-range" size={6} value={q.range} onChange={(e) => setQuery(i, { ...q, range: e.target.value })} title="How far back the query looks at each evaluation (10m, 1h)" />
              </label>
              <span className="spacer" />
              {form.queries.length > 1 && (
                <button type="button" className="button ghost" aria-label={`Remove query ${q.refId}`} onClick={() => update({ queries: form.queries.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              )}
            </div>
            <div className="rule-query-body">
              {q.datasourceUid ? (
                <QueryEditor datasource={{ uid: q.datasourceUid, type: q.datasourceType }} query={{ ...q.model, refId: q.refId }} onChange={(model) => setQuery(i, { ...formRef.current.queries[i], model })} onRunQuery={runPreview} />
              ) : (
                <p className="hint">{datasources.loading ? 'Loading data sources…' : datasources.error || 'Choose a data source.'}</p>
              )}
            </div>
          </div>
        ))}
        {form.expressions.map((e, i) => (
          <ExpressionEditor key={e.refId + i} expression={e} inputs={refIds.filter((r) => r !== e.refId)} onChange={(next) => setExpression(i, next)} onRemove={() => update({ expressions: form.expressions.filter((_, j) => j !== i) })} />
        ))}
        <div className="rule-add">
          <button
            type="button"
            className="button"
            data-testid="alert-rule-add-query"
            onClick={() => {
              const ds = queryDatasources.find((d) => d.isDefault) ?? queryDatasources[0];
              update({ queries: [...form.queries, { refId: nextRefId(refIds), datasourceUid: ds?.uid ?? '', datasourceType: ds?.type ?? '', range: '10m', model: {} }] });
            }}
          >
            Add query
          </button>
          {(['reduce', 'math', 'threshold'] as ExpressionKind[]).map((kind) => (
            <button key={kind} type="button" className="button" data-testid={`alert-rule-add-${kind}`} onClick={() => update({ expressions: [...form.expressions, newExpression(kind, nextRefId(refIds), refIds[refIds.length - 1])] })}>
              Add {kind}
            </button>
          ))}
        </div>
        <div className="rule-fields">
          <label>
            Condition
            <select data-testid="alert-rule-condition" value={form.condition} onChange={(e) => update({ condition: e.target.value })}>
              {!refIds.includes(form.condition) && <option value={form.condition}>{form.condition || 'Choose'}</option>}
              {refIds.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="button" data-testid="alert-rule-preview" onClick={runPreview} disabled={preview.kind === 'running' || readOnly} title={readOnly ? 'Previewing runs the queries on the server: it needs the Editor role' : undefined}>
            {preview.kind === 'running' ? 'Previewing…' : 'Preview'}
          </button>
        </div>
        <PreviewResult preview={preview} condition={form.condition} queryRefs={form.queries.map((q) => q.refId)} />
      </section>

      <section className="rule-section">
        <h2>3. Folder and evaluation group</h2>
        <div className="rule-fields">
          <FolderPicker folders={folders} value={form.folderUid} onChange={(folderUid) => update({ folderUid })} onCreated={(f) => setFolders([...folders, f])} />
          <label>
            Evaluation group
            <select
              data-testid="alert-rule-group-select"
              value={creatingGroup ? NEW_GROUP : form.group}
              onChange={(e) => {
                if (e.target.value === NEW_GROUP) {
                  setCreatingGroup(true);
                  update({ group: '', groupInterval: '' });
                } else {
                  setCreatingGroup(false);
                  update({ group: e.target.value, groupInterval: '' });
                }
              }}
            >
              {!creatingGroup && form.group && !folderGroups.some((g) => g.name === form.group) && <option value={form.group}>{form.group}</option>}
              {!creatingGroup && !form.group && <option value="">Choose a group</option>}
              {folderGroups.map((g) => (
                <option key={g.name} value={g.name}>
                  {g.name} (every {secondsToDuration(g.interval)})
                </option>
              ))}
              <option value={NEW_GROUP}>New group…</option>
            </select>
          </label>
          {creatingGroup && (
            <label>
              New group name
              <input data-testid="alert-rule-group-name" value={form.group} onChange={(e) => update({ group: e.target.value })} placeholder="node-checks" />
            </label>
          )}
          <label>
            Evaluate every
            <input
              data-testid="alert-rule-group-interval"
              size={6}
              value={groupIntervalShown}
              onChange={(e) => update({ groupInterval: e.target.value })}
              title={`A multiple of 10 s: 10s, 30s, 1m, 5m.${existingGroup ? ' The interval belongs to the group: every rule in it is evaluated this often.' : ''}`}
            />
          </label>
          <label>
            Pending period
            <input data-testid="alert-rule-for" size={6} value={form.pendingFor} onChange={(e) => update({ pendingFor: e.target.value })} title="How long the condition must hold before the alert fires (0s fires at once)" />
          </label>
        </div>
        <div className="rule-fields">
          <label>
            If no data
            <select data-testid="alert-rule-nodata" value={form.noDataState} onChange={(e) => update({ noDataState: e.target.value as RuleForm['noDataState'] })}>
              <option value="NoData">No data</option>
              <option value="Alerting">Alerting</option>
              <option value="OK">Normal</option>
              <option value="KeepLast">Keep last state</option>
            </select>
          </label>
          <label>
            If execution error
            <select data-testid="alert-rule-execerr" value={form.execErrState} onChange={(e) => update({ execErrState: e.target.value as RuleForm['execErrState'] })}>
              <option value="Error">Error</option>
              <option value="Alerting">Alerting</option>
              <option value="OK">Normal</option>
              <option value="KeepLast">Keep last state</option>
            </select>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={form.isPaused} onChange={(e) => update({ isPaused: e.target.checked })} />
            Pause evaluation
          </label>
        </div>
      </section>

      <section className="rule-section">
        <h2>4. Labels and annotations</h2>
        <div className="rule-fields">
          <label className="rule-field wide">
            Summary
            <input data-testid="alert-rule-summary" value={form.summary} onChange={(e) => update({ summary: e.target.value })} placeholder="Load on {{ $labels.instance }} is {{ $value }}" />
          </label>
        </div>
        <label className="rule-field wide">
          Description
          <textarea data-testid="alert-rule-description" value={form.description} onChange={(e) => update({ description: e.target.value })} />
        </label>
        <div className="rule-fields">
          <label>
            Dashboard UID
            <input data-testid="alert-rule-dashboard-uid" value={form.dashboardUid} onChange={(e) => update({ dashboardUid: e.target.value })} placeholder="optional" title="Draw this rule's state changes on a panel of this dashboard" />
          </label>
          <label>
            Panel ID
            <input data-testid="alert-rule-panel-id" size={6} value={form.panelId} onChange={(e) => update({ panelId: e.target.value })} placeholder="optional" title="The panel's id in the dashboard JSON" />
          </label>
          {form.dashboardUid.trim() && (
            <Link to={`/d/${encodeURIComponent(form.dashboardUid.trim())}`} target="_blank" rel="noreferrer">
              Open the dashboard
            </Link>
          )}
        </div>
        <KeyValueList title="Labels" testId="alert-rule-labels" items={form.labels} onChange={(labels) => update({ labels })} />
        <KeyValueList title="Other annotations" testId="alert-rule-annotations" items={form.annotations} onChange={(annotations) => update({ annotations })} />
      </section>

      {problems.length > 0 && (
        <ul className="rule-problems" role="alert" data-testid="alert-rule-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {saveError && (
        <p className="form-error" role="alert" data-testid="alert-rule-save-error">
          {saveError}
        </p>
      )}
      <div className="rule-actions">
        <button type="button" className="button primary" data-testid="alert-rule-save" onClick={() => void save()} disabled={saving || readOnly}>
          {saving ? 'Saving…' : 'Save rule'}
        </button>
        <Link to="/alerting/list" className="button">
          Cancel
        </Link>
        <span className="spacer" />
        {form.uid && !readOnly && (
          <button type="button" className="button" data-testid="alert-rule-delete" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        )}
      </div>
      {confirmDelete && (
        <Modal title="Delete alert rule" onClose={() => setConfirmDelete(false)} testId="alert-rule-delete-dialog">
          <p>
            Delete <strong>{form.title}</strong>? Its alert instances and their state go with it.
          </p>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
            <button type="button" className="button primary" data-testid="alert-rule-delete-confirm" onClick={() => void remove()}>
              Delete
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}

function ExpressionEditor({ expression: e, inputs, onChange, onRemove }: { expression: ExpressionForm; inputs: string[]; onChange: (e: ExpressionForm) => void; onRemove: () => void }) {
  const evaluator = EVALUATORS.find((ev) => ev.type === e.evaluator);
  const inputPicker = (
    <select aria-label={`Input of ${e.refId}`} data-testid="alert-rule-expression-input" value={e.input} onChange={(ev) => onChange({ ...e, input: ev.target.value })}>
      {!inputs.includes(e.input) && <option value={e.input}>{e.input || 'Choose'}</option>}
      {inputs.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
  return (
    <div className="rule-expression" data-testid="alert-rule-expression" data-ref={e.refId} data-kind={e.kind}>
      <div className="rule-query-header">
        <span className="ref">{e.refId}</span>
        {e.kind === 'other' ? (
          <span className="muted">{String(e.model.type ?? 'expression')} (kept as it is; edit it as JSON through the API)</span>
        ) : (
          <select aria-label={`Kind of ${e.refId}`} data-testid="alert-rule-expression-kind" value={e.kind} onChange={(ev) => onChange({ ...e, kind: ev.target.value as ExpressionKind })}>
            <option value="reduce">Reduce</option>
            <option value="math">Math</option>
            <option value="threshold">Threshold</option>
          </select>
        )}
        <span className="spacer" />
        <button type="button" className="button ghost" aria-label={`Remove expression ${e.refId}`} onClick={onRemove}>
          Remove
        </button>
      </div>
      {e.kind !== 'other' && (
        <div className="rule-query-body">
          {e.kind === 'reduce' && (
            <>
              <span className="muted">Function</span>
              <select aria-label={`Reducer of ${e.refId}`} data-testid="alert-rule-reducer" value={e.reducer} onChange={(ev) => onChange({ ...e, reducer: ev.target.value })}>
                {REDUCERS.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <span className="muted">of</span>
              {inputPicker}
            </>
          )}
          {e.kind === 'math' && (
            <input className="grow" style={{ flex: 1 }} aria-label={`Math expression of ${e.refId}`} data-testid="alert-rule-math" value={e.math} placeholder="$A * 100" onChange={(ev) => onChange({ ...e, math: ev.target.value })} />
          )}
          {e.kind === 'threshold' && (
            <>
              <span className="muted">Input</span>
              {inputPicker}
              <select aria-label={`Threshold test of ${e.refId}`} data-testid="alert-rule-evaluator" value={e.evaluator} onChange={(ev) => onChange({ ...e, evaluator: ev.target.value })}>
                {EVALUATORS.map((ev) => (
                  <option key={ev.type} value={ev.type}>
                    {ev.label}
                  </option>
                ))}
              </select>
              <input aria-label={`Threshold of ${e.refId}`} data-testid="alert-rule-threshold" size={8} value={e.params[0]} onChange={(ev) => onChange({ ...e, params: [ev.target.value, e.params[1]] })} />
              {evaluator?.params === 2 && (
                <>
                  <span className="muted">and</span>
                  <input aria-label={`Upper threshold of ${e.refId}`} data-testid="alert-rule-threshold-2" size={8} value={e.params[1]} onChange={(ev) => onChange({ ...e, params: [e.params[0], ev.target.value] })} />
                </>
              )}
            </>
          )}
        </div>
      )}
    </div>
  );
}

function FolderPicker({ folders, value, onChange, onCreated }: { folders: FolderSummary[]; value: string; onChange: (uid: string) => void; onCreated: (f: FolderSummary) => void }) {
  const [adding, setAdding] = useState(false);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string>();
  if (adding)
    return (
      <label>
        New folder
        <span className="kv-row">
          <input data-testid="alert-rule-new-folder-title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Folder title" />
          <button
            type="button"
            className="button"
            data-testid="alert-rule-new-folder-create"
            disabled={!title.trim()}
            onClick={() =>
              createFolder(title.trim())
                .then((f) => {
                  onCreated(f);
                  onChange(f.uid);
                  setAdding(false);
                  setError(undefined);
                })
                .catch((e: unknown) => setError(errorText(e)))
            }
          >
            Create
          </button>
          <button type="button" className="button ghost" onClick={() => setAdding(false)}>
            Cancel
          </button>
        </span>
        {error && <span className="form-error">{error}</span>}
      </label>
    );
  return (
    <label>
      Folder
      <span className="kv-row">
        <select data-testid="alert-rule-folder" value={value} onChange={(e) => onChange(e.target.value)}>
          {!value && <option value="">Choose a folder</option>}
          {value && !folders.some((f) => f.uid === value) && <option value={value}>{value}</option>}
          {folders.map((f) => (
            <option key={f.uid} value={f.uid}>
              {f.title}
            </option>
          ))}
        </select>
        <button type="button" className="button ghost" data-testid="alert-rule-new-folder" onClick={() => setAdding(true)}>
          New folder
        </button>
      </span>
    </label>
  );
}

function KeyValueList({ title, testId, items, onChange }: { title: string; testId: string; items: KeyValue[]; onChange: (items: KeyValue[]) => void }) {
  const set = (i: number, patch: Partial<KeyValue>) => onChange(items.map((it, j) => (j === i ? { ...it, ...patch } : it)));
  return (
    <div className="rule-field" data-testid={testId}>
      {title}
      <div className="kv-list">
        {items.map((it, i) => (
          <div key={i} className="kv-row">
            <input aria-label={`${title} key ${i + 1}`} data-testid={`${testId}-key`} value={it.key} placeholder="key" onChange={(e) => set(i, { key: e.target.value })} />
            <input aria-label={`${title} value ${i + 1}`} data-testid={`${testId}-value`} value={it.value} placeholder="value" onChange={(e) => set(i, { value: e.target.value })} />
            <button type="button" className="button ghost" aria-label={`Remove ${title.toLowerCase()} ${it.key || i + 1}`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
              ✕
            </button>
          </div>
        ))}
        <div>
          <button type="button" className="button" data-testid={`${testId}-add`} onClick={() => onChange([...items, { key: '', value: '' }])}>
            Add
          </button>
        </div>
      </div>
    </div>
  );
}

function PreviewResult({ preview, condition, queryRefs }: { preview: Preview; condition: string; queryRefs: string[] }) {
  if (preview.kind === 'idle') return null;
  if (preview.kind === 'running') return <div className="page-loading" aria-busy="true" />;
  if (preview.kind === 'error')
    return (
      <p className="form-error" role="alert" data-testid="alert-rule-preview-error">
        {preview.message}
      </p>
    );
  const { results, instances } = preview.answer;
  const valueKeys = [...new Set(instances.flatMap((i) => Object.keys(i.values ?? {})))].sort();
  return (
    <div className="preview" data-testid="alert-rule-preview-result">
      {queryRefs.map((ref) => {
        const result = results?.[ref];
        if (!result) return null;
        const series = framesToSeries(result.frames ?? [], ref);
        return (
          <div key={ref} data-testid="alert-rule-preview-query" data-ref={ref}>
            <h3>
              Query {ref}: {result.error ? 'error' : `${series.length} series`}
            </h3>
            {result.error ? <p className="form-error">{result.error}</p> : <SeriesPreview series={series} />}
          </div>
        );
      })}
      <h3>
        Condition {condition}: {instances.length} instance{instances.length === 1 ? '' : 's'}
      </h3>
      {instances.length > 0 && (
        <table data-testid="alert-rule-preview-instances">
          <thead>
            <tr>
              <th>State</th>
              <th>Labels</th>
              {valueKeys.map((k) => (
                <th key={k}>{k}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {instances.map((inst, i) => (
              <tr key={i} data-testid="alert-rule-preview-instance" data-state={inst.state}>
                <td>
                  <StateBadge state={inst.state} />
                </td>
                <td>{labelText(inst.labels) || '{}'}</td>
                {valueKeys.map((k) => (
                  <td key={k}>{formatValue(inst.values?.[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A small chart of a query's series and, below it, each series' last value. */
function SeriesPreview({ series }: { series: Series[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => entry.contentRect.width > 0 && setWidth(Math.round(entry.contentRect.width)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const range = useMemo(() => {
    const times = series.flatMap((s) => (s.times.length ? [s.times[0], s.times[s.times.length - 1]] : []));
    return times.length ? { from: Math.min(...times), to: Math.max(...times) } : { from: 0, to: 1 };
  }, [series]);
  const panel = useMemo(() => ({ id: 0, type: 'timeseries', options: { legend: { showLegend: false } } }), []);
  const data = useMemo(() => ({ frames: [], series }), [series]);
  if (series.length === 0) return <p className="hint">No series.</p>;
  return (
    <>
      <div className="preview-chart" ref={ref}>
        {width > 0 && <TimeSeriesPanel panel={panel} data={data} width={width} height={178} timeZone="browser" range={range} onZoom={() => undefined} />}
      </div>
      <table>
        <thead>
          <tr>
            <th>Series</th>
            <th>Points</th>
            <th>Last</th>
          </tr>
        </thead>
        <tbody>
          {series.slice(0, 10).map((s, i) => (
            <tr key={i}>
              <td>{s.name}</td>
              <td>{s.values.length}</td>
              <td>{formatValue(lastValue(s.values))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {series.length > 10 && <p className="hint">and {series.length - 10} more series</p>}
    </>
  );
}

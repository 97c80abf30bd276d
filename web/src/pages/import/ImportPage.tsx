import { useState, type ChangeEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client';
import { importDashboard, listDatasourceChoices, type DatasourceChoice } from '../../api/import';
import { typeName } from '../../datasources/model';
import { useLoad } from '../../datasources/useLoad';
import { FolderPicker } from '../folders/FolderPicker';
import {
  buildImportRequest,
  conflictMessage,
  dashboardInputs,
  datasourceVariables,
  datasourcesOfType,
  importProblem,
  parseDashboardJson,
  withDefaultChoices,
  type ImportForm,
} from './importModel';
import { JsonTextarea } from './JsonTextarea';
import './import.css';

/**
 * `/dashboard/import`: paste or upload an exported dashboard, then choose its title, uid, folder and
 * datasources. The server fills the `${DS_…}` inputs; a taken uid or title offers an overwrite.
 */
export function ImportPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [datasources] = useLoad('datasources', listDatasourceChoices);
  const [text, setText] = useState('');
  const [edited, setForm] = useState<ImportForm>();
  const [error, setError] = useState<string>();
  // A 412 (uid or title taken): the error says which, and the import can be sent again to overwrite.
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  const dsList = datasources.kind === 'done' ? datasources.value : [];
  const form = edited && withDefaultChoices(edited, dsList);

  const load = (json: string) => {
    setConflict(false);
    const parsed = parseDashboardJson(json);
    if (!parsed.ok) {
      setForm(undefined);
      setError(parsed.error);
      return;
    }
    setError(undefined);
    const dashboard = parsed.dashboard;
    setForm({
      dashboard,
      title: typeof dashboard.title === 'string' ? dashboard.title : '',
      uid: typeof dashboard.uid === 'string' ? dashboard.uid : '',
      folderUid: params.get('folderUid') ?? '',
      overwrite: false,
      choices: {},
    });
  };

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    try {
      const content = await file.text();
      setText(content);
      load(content);
    } catch (err) {
      setError(`The file could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const submit = async (overwrite: boolean) => {
    if (!form) return;
    const problem = importProblem(form, dsList);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(undefined);
    setConflict(false);
    try {
      const imported = await importDashboard(buildImportRequest({ ...form, overwrite }, dsList));
      navigate(imported.importedUrl || `/d/${encodeURIComponent(imported.uid)}`);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 412) {
        setConflict(true);
        setError(conflictMessage((err.body as { status?: string } | undefined)?.status, err.message));
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    }
  };

  const errorMessage = error && (
    <p className="form-error" role="alert" data-testid="import-error">
      {error}
    </p>
  );

  const update = (change: Partial<ImportForm>) => {
    // An edit (another uid or title) may resolve the conflict: offer the plain import again.
    setConflict(false);
    setError(undefined);
    setForm((f) => (f ? { ...f, ...change } : f));
  };
  const choose = (name: string, value: string) => edited && update({ choices: { ...edited.choices, [name]: value } });

  return (
    <div className="create-page import-page">
      <h1>Import dashboard</h1>
      <section className="create-section">
        <label className="import-upload">
          <span>Upload a dashboard JSON file</span>
          <input type="file" accept=".json,application/json" data-testid="import-file" onChange={upload} />
        </label>
        <label className="import-paste">
          <span>Or paste the dashboard JSON model</span>
          <JsonTextarea testId="import-json" value={text} onChange={setText} />
        </label>
        <div className="form-actions">
          <button type="button" className="button" data-testid="import-load" onClick={() => load(text)}>
            Load
          </button>
        </div>
      </section>

      {datasources.kind === 'error' && <p className="form-error">Data sources could not be listed: {datasources.message}</p>}
      {!form && errorMessage}

      {form && (
        <form
          className="form create-section"
          data-testid="import-options"
          onSubmit={(e) => {
            e.preventDefault();
            void submit(false);
          }}
        >
          <h2>Options</h2>
          <label>
            Name
            <input data-testid="import-title" value={form.title} onChange={(e) => update({ title: e.target.value })} />
          </label>
          <label>
            Folder
            <FolderPicker value={form.folderUid} onChange={(folderUid) => update({ folderUid })} testId="import-folder" />
          </label>
          <label>
            Unique identifier (uid)
            <input data-testid="import-uid" value={form.uid} onChange={(e) => update({ uid: e.target.value })} placeholder="empty: a new one is made" />
          </label>
          <InputFields form={form} datasources={dsList} onChoose={choose} />
          {errorMessage}
          <div className="form-actions">
            {conflict ? (
              <button type="button" className="button danger" data-testid="import-overwrite" disabled={busy} onClick={() => void submit(true)}>
                Import (overwrite)
              </button>
            ) : (
              <button type="submit" className="button primary" data-testid="import-submit" disabled={busy}>
                Import
              </button>
            )}
            <button type="button" className="button" onClick={() => navigate('/dashboards')}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/** A field per `__inputs` entry, then a datasource choice per datasource variable. */
function InputFields({ form, datasources, onChoose }: { form: ImportForm; datasources: readonly DatasourceChoice[]; onChoose: (name: string, value: string) => void }) {
  const inputs = dashboardInputs(form.dashboard);
  const inputNames = new Set(inputs.map((i) => i.name));
  const variables = datasourceVariables(form.dashboard).filter((v) => !inputNames.has(v.name));
  return (
    <>
      {inputs.map((input) =>
        input.type === 'datasource' ? (
          <DatasourceSelect
            key={input.name}
            name={input.name}
            kind="input"
            label={`${input.label} (${input.pluginName || typeName(input.pluginId ?? '')})`}
            hint={input.description}
            options={datasourcesOfType(datasources, input.pluginId)}
            pluginId={input.pluginId}
            value={form.choices[input.name] ?? ''}
            onChange={(v) => onChoose(input.name, v)}
          />
        ) : (
          <label key={input.name}>
            {input.label}
            {input.description && <span className="muted">{input.description}</span>}
            <input data-testid="import-input" data-input={input.name} data-kind="input" value={form.choices[input.name] ?? ''} onChange={(e) => onChoose(input.name, e.target.value)} />
          </label>
        ),
      )}
      {variables.map((v) => (
        <DatasourceSelect
          key={v.name}
          name={v.name}
          kind="variable"
          label={`Data source variable $${v.name} (${typeName(v.pluginId)})`}
          hint="Saved as the variable's current value, so the dashboard opens on it."
          options={datasourcesOfType(datasources, v.pluginId)}
          pluginId={v.pluginId}
          value={form.choices[v.name] ?? ''}
          onChange={(value) => onChoose(v.name, value)}
          optional
        />
      ))}
    </>
  );
}

function DatasourceSelect(props: {
  name: string;
  kind: 'input' | 'variable';
  label: string;
  hint?: string;
  options: DatasourceChoice[];
  pluginId?: string;
  value: string;
  onChange: (uid: string) => void;
  optional?: boolean;
}) {
  return (
    <label>
      {props.label}
      {props.hint && <span className="muted">{props.hint}</span>}
      <select data-testid="import-input" data-input={props.name} data-kind={props.kind} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.optional ? "The dashboard's default" : 'Choose a data source'}</option>
        {props.options.map((ds) => (
          <option key={ds.uid} value={ds.uid}>
            {ds.name}
          </option>
        ))}
      </select>
      {props.options.length === 0 && (
        <span className="muted">
          No {typeName(props.pluginId ?? '')} data source yet: <Link to="/connections/datasources/new">add one</Link>.
        </span>
      )}
    </label>
  );
}

import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { checkHealth, deleteDatasource, getDatasource, updateDatasource, type Datasource } from '../../api/datasources';
import { datasourceFromForm, formFromDatasource, typeName, type DatasourceForm } from '../../datasources/model';
import { SettingsFields } from '../../datasources/SettingsFields';
import { useLoad } from '../../datasources/useLoad';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface TestResult {
  ok: boolean;
  message: string;
}

/** `/connections/datasources/edit/:uid`: the settings form with Save & test, Delete and Back. */
export function EditDatasourcePage() {
  const { uid = '' } = useParams();
  const navigate = useNavigate();
  const [loaded, setLoaded] = useLoad(uid, (signal) => getDatasource(uid, signal));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<TestResult>();

  if (loaded.kind === 'loading') return <div className="page-loading" aria-busy="true" />;
  if (loaded.kind === 'error') {
    return (
      <div className="datasources">
        <p className="form-error" role="alert">
          {loaded.message}
        </p>
        <Link to="/connections/datasources" className="button">
          Back
        </Link>
      </div>
    );
  }
  const original = loaded.value;

  /** PUT the form, reload the datasource (new version, which secrets are now set), then the health check. */
  async function saveAndTest(form: DatasourceForm) {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      await updateDatasource(uid, datasourceFromForm(form, original));
    } catch (e) {
      // 409 (name taken, stale version), 400 (bad URL), 403 (read-only): shown by the form.
      setError(errorText(e));
      setBusy(false);
      return;
    }
    try {
      setLoaded(await getDatasource(uid));
    } catch (e) {
      setError(errorText(e));
    }
    try {
      const health = await checkHealth(uid);
      setResult({ ok: health.status === 'OK', message: health.message });
    } catch (e) {
      // The health route answers 400 {"status":"ERROR","message"} when the source fails.
      setResult({ ok: false, message: errorText(e) });
    }
    setBusy(false);
  }

  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      await deleteDatasource(uid);
      navigate('/connections/datasources');
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  }

  return (
    <div className="datasources">
      <h1>{original.name}</h1>
      <p className="muted">Type: {typeName(original.type)}</p>
      {original.readOnly && <p className="form-error">This data source was added by provisioning and cannot be changed here.</p>}
      {/* Keyed by version: after a save the form starts again from what the server now holds. */}
      <SettingsForm key={`${original.uid}:${original.version ?? ''}`} original={original} busy={busy} error={error} result={result} onSave={saveAndTest} onDelete={remove} />
    </div>
  );
}

interface FormProps {
  original: Datasource;
  busy: boolean;
  error?: string;
  result?: TestResult;
  onSave: (form: DatasourceForm) => Promise<void>;
  onDelete: () => Promise<void>;
}

function SettingsForm({ original, busy, error, result, onSave, onDelete }: FormProps) {
  const [form, setForm] = useState(() => formFromDatasource(original));
  const [confirming, setConfirming] = useState(false);

  function submit(e: FormEvent) {
    e.preventDefault();
    void onSave(form);
  }

  return (
    <form className="form datasource-form" onSubmit={submit}>
      <label>
        Name
        <input data-testid="datasource-name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={form.isDefault} onChange={(e) => setForm({ ...form, isDefault: e.target.checked })} />
        Default
      </label>
      <SettingsFields form={form} original={original} onChange={setForm} />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className={`test-result ${result.ok ? 'ok' : 'error'}`} data-testid="datasource-test-result" data-status={result.ok ? 'ok' : 'error'} role="status">
          {result.message}
        </div>
      )}
      <div className="form-actions">
        <Link to="/connections/datasources" className="button">
          Back
        </Link>
        {confirming ? (
          <>
            <span className="confirm-text">Delete this data source?</span>
            <button type="button" className="button danger" data-testid="datasource-delete-confirm" disabled={busy} onClick={() => void onDelete()}>
              Yes, delete
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="button danger" data-testid="datasource-delete" disabled={busy} onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
        <button type="submit" className="button primary" data-testid="datasource-save-test" disabled={busy}>
          Save &amp; test
        </button>
      </div>
    </form>
  );
}

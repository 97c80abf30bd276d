import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { createDatasource, listDatasources } from '../../api/datasources';
import { DATASOURCE_TYPES, newDatasourceName } from '../../datasources/model';
import { useLoad } from '../../datasources/useLoad';

/**
 * `/connections/datasources/new`: choosing a type creates the datasource at once (POST with an empty
 * URL, which the server accepts for this reason) and opens its settings, as Grafana does.
 */
export function NewDatasourcePage() {
  const navigate = useNavigate();
  // The names in use, to pick a free default name instead of meeting the server's 409.
  const [list] = useLoad('list', listDatasources);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function choose(type: string) {
    if (list.kind !== 'done') return;
    setBusy(true);
    setError(undefined);
    try {
      const name = newDatasourceName(type, list.value.map((d) => d.name));
      const created = await createDatasource({ name, type, access: 'proxy', url: '', jsonData: {} });
      navigate(`/connections/datasources/edit/${encodeURIComponent(created.datasource.uid)}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  return (
    <div className="datasources">
      <h1>Add data source</h1>
      <p className="muted">Choose a data source type</p>
      {list.kind === 'error' && (
        <p className="form-error" role="alert">
          {list.message}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="datasource-types">
        {DATASOURCE_TYPES.map((t) => (
          <li key={t.id}>
            <button type="button" className="button datasource-type" data-testid="datasource-type" data-type={t.id} disabled={busy || list.kind !== 'done'} onClick={() => void choose(t.id)}>
              <strong>{t.name}</strong>
              <span className="muted">{t.description}</span>
            </button>
          </li>
        ))}
      </ul>
      <Link to="/connections/datasources" className="button">
        Back
      </Link>
    </div>
  );
}

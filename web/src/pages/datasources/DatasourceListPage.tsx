import { Link } from 'react-router';
import { listDatasources } from '../../api/datasources';
import { typeName } from '../../datasources/model';
import { useLoad } from '../../datasources/useLoad';

/** `/connections/datasources`: the org's datasources, by name, as Grafana lists them. */
export function DatasourceListPage() {
  const [list] = useLoad('list', listDatasources);
  return (
    <div className="datasources">
      <div className="datasources-header">
        <h1>Data sources</h1>
        <Link to="/connections/datasources/new" className="button primary" data-testid="datasource-add">
          Add data source
        </Link>
      </div>
      {list.kind === 'loading' && <div className="page-loading" aria-busy="true" />}
      {list.kind === 'error' && (
        <p className="form-error" role="alert">
          {list.message}
        </p>
      )}
      {list.kind === 'done' && list.value.length === 0 && <p className="empty-state">No data sources yet.</p>}
      {list.kind === 'done' && list.value.length > 0 && (
        <ul className="datasource-list">
          {list.value.map((ds) => (
            <li key={ds.uid} data-testid="datasource-list-item" data-uid={ds.uid}>
              <Link to={`/connections/datasources/edit/${encodeURIComponent(ds.uid)}`} className="datasource-name">
                {ds.name}
              </Link>
              {ds.isDefault && <span className="badge">default</span>}
              <span className="muted">
                {ds.typeName || typeName(ds.type)}
                {ds.url ? ` · ${ds.url}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

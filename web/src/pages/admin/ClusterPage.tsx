import { useEffect, useState } from 'react';
import { ApiError } from '../../api/client';
import { getCluster, getHealth, type Health } from '../../api/admin';
import { fromCluster, fromHealth, leaseState, relativeTime, type ClusterView } from './cluster';
import { useListing } from './useListing';
import './admin.css';

/** How often the page asks again: heartbeats and leases change by the second. */
const REFRESH_MS = 10_000;

/**
 * The replicas from GET /api/cluster; a server without that route (404: before the HA work) is shown
 * as this replica alone from GET /api/health.
 */
async function loadCluster(signal: AbortSignal): Promise<ClusterView & { loadedAt: number }> {
  const view = await clusterOrHealth(signal);
  // The page's clock for "5 s ago": when the answer came, not each render.
  return { ...view, loadedAt: Date.now() };
}

async function clusterOrHealth(signal: AbortSignal): Promise<ClusterView> {
  try {
    return fromCluster(await getCluster(signal), Date.now());
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  try {
    return fromHealth(await getHealth(signal), window.location.host);
  } catch (e) {
    // 503 still describes the replica: its database is failing.
    if (e instanceof ApiError && e.status === 503 && e.body) return fromHealth(e.body as Health, window.location.host);
    throw e;
  }
}

/** `/admin/cluster`: the replicas, their health and the leases they hold. */
export function ClusterPage() {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const cluster = useListing(String(tick), loadCluster);
  const view = cluster.value;
  const now = view?.loadedAt ?? 0;

  return (
    <div className="admin-page">
      <div className="admin-header">
        <h1>Cluster</h1>
        <button type="button" className="button" data-testid="cluster-refresh" onClick={() => setTick((t) => t + 1)} disabled={cluster.loading}>
          Refresh
        </button>
      </div>
      {cluster.error && (
        <p className="form-error" role="alert" data-testid="admin-error">
          {cluster.error}
        </p>
      )}
      {!view && cluster.loading && <div className="page-loading" aria-busy="true" />}
      {view?.source === 'health' && <p className="muted">This server does not report its cluster yet: shown is the replica that answered.</p>}
      {view && (
        <table className="admin-table" data-testid="cluster-members" data-source={view.source}>
          <thead>
            <tr>
              <th>Replica</th>
              <th>Address</th>
              <th>Version</th>
              <th>Health</th>
              <th>{view.source === 'cluster' ? 'Started' : 'Commit'}</th>
            </tr>
          </thead>
          <tbody>
            {view.members.map((m) => (
              <tr key={m.id} data-testid="cluster-member" data-healthy={m.healthy} data-member-id={m.id}>
                <td>{m.id}</td>
                <td>{m.address}</td>
                <td>{m.version}</td>
                <td>
                  <span className={m.healthy ? 'health ok' : 'health failing'}>{m.healthy ? 'healthy' : 'unhealthy'}</span> <span className="muted">{m.detail}</span>
                </td>
                <td>{view.source === 'cluster' ? relativeTime(m.startedAt, now) : <code>{m.commit || 'unknown'}</code>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view && view.source === 'cluster' && (
        <>
          <h2>Leases</h2>
          {view.leases.length === 0 ? (
            <p className="muted">No leases held.</p>
          ) : (
            <table className="admin-table" data-testid="cluster-leases">
              <thead>
                <tr>
                  <th>Lease</th>
                  <th>Holder</th>
                  <th>Fencing token</th>
                  <th>Expires</th>
                </tr>
              </thead>
              <tbody>
                {view.leases.map((l) => {
                  const state = leaseState(l, now);
                  return (
                    <tr key={l.name} data-testid="cluster-lease" data-name={l.name}>
                      <td>{l.name}</td>
                      <td>{state.holder}</td>
                      <td>{l.fencingToken}</td>
                      <td>{state.expires}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

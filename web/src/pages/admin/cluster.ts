// The cluster page's model: the replicas from GET /api/cluster (with the HA work), or, while that
// route does not exist, this replica alone from GET /api/health.

import type { ClusterLease, ClusterStatus, Health } from '../../api/admin';

export interface MemberRow {
  id: string;
  address: string;
  version: string;
  healthy: boolean;
  /** Health detail: "database ok", "last heartbeat 3 s ago", … */
  detail: string;
  startedAt?: string;
  commit?: string;
}

export interface ClusterView {
  /** `health`: only this replica is known (no /api/cluster on this server). */
  source: 'cluster' | 'health';
  members: MemberRow[];
  leases: ClusterLease[];
}

/** A lease's holder and expiry as the table shows them: "released" and "expired" instead of an
 *  empty holder or a time in the past. */
export function leaseState(lease: ClusterLease, now: number): { holder: string; expires: string } {
  if (!lease.holder) return { holder: '— (released)', expires: '—' };
  const expired = lease.held === false || (lease.expiresAt ? Date.parse(lease.expiresAt) <= now : false);
  if (expired) return { holder: `${lease.holder} (expired)`, expires: relativeTime(lease.expiresAt ?? undefined, now) };
  return { holder: lease.holder, expires: relativeTime(lease.expiresAt ?? undefined, now) };
}

/** "5 s ago", "3 min ago", "2 h ago", "in 20 s" (a lease's expiry), "unknown" when unparsable. */
export function relativeTime(iso: string | undefined, now: number): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return 'unknown';
  const seconds = Math.round((now - at) / 1000);
  const abs = Math.abs(seconds);
  const amount = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.floor(abs / 60)} min` : abs < 86_400 ? `${Math.floor(abs / 3600)} h` : `${Math.floor(abs / 86_400)} d`;
  return seconds >= 0 ? `${amount} ago` : `in ${amount}`;
}

export function fromCluster(status: ClusterStatus, now: number): ClusterView {
  const members = (status.members ?? [])
    .map((m) => ({
      id: m.id,
      address: m.address,
      version: m.version,
      healthy: m.healthy,
      detail: `last heartbeat ${relativeTime(m.lastHeartbeat, now)}`,
      startedAt: m.startedAt,
    }))
    // Unhealthy replicas first: they are what the page is opened for.
    .sort((a, b) => Number(a.healthy) - Number(b.healthy) || a.id.localeCompare(b.id));
  const leases = [...(status.leases ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return { source: 'cluster', members, leases };
}

/** This replica from /api/health (a 503's body has the same shape, with `database: "failing"`). */
export function fromHealth(health: Health, address: string): ClusterView {
  const healthy = health.database === 'ok';
  return {
    source: 'health',
    members: [
      {
        id: 'this replica',
        address,
        version: health.pharosVersion ? `${health.pharosVersion} (Grafana API ${health.version ?? '?'})` : (health.version ?? 'unknown'),
        healthy,
        detail: `database ${health.database ?? 'unknown'}`,
        commit: health.commit,
      },
    ],
    leases: [],
  };
}

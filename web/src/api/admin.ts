// Server and org administration: users (server admin), org roles and service accounts (org admin),
// and the replicas' health. The server checks every call; a smaller role gets its 403 message.
import { requestJson, withQuery } from './client';

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';
export const ORG_ROLES: readonly OrgRole[] = ['Viewer', 'Editor', 'Admin'];

// ---- Users ----

export interface ListedUser {
  id: number;
  name: string;
  login: string;
  email: string;
  isAdmin: boolean;
  isDisabled: boolean;
  lastSeenAt?: string;
}

export interface UserPage {
  totalCount: number;
  users: ListedUser[];
  page: number;
  perPage: number;
}

export const searchUsers = (params: { query?: string; page: number; perpage: number }, signal?: AbortSignal) =>
  requestJson<UserPage>(withQuery('/api/users/search', params), { signal });

export interface NewUser {
  name: string;
  email: string;
  login: string;
  password: string;
}

/** The new user joins the current org as Viewer (Grafana's default). 412 when login or e-mail is taken. */
export const createUser = (user: NewUser) => requestJson<{ id: number; message: string }>('/api/admin/users', { method: 'POST', body: user });

export const deleteUser = (id: number) => requestJson<{ message: string }>(`/api/admin/users/${id}`, { method: 'DELETE' });

export const setUserPassword = (id: number, password: string) =>
  requestJson<{ message: string }>(`/api/admin/users/${id}/password`, { method: 'PUT', body: { password } });

export interface OrgMember {
  userId: number;
  login: string;
  email: string;
  name: string;
  role: OrgRole | string;
}

/** The current org's members with their roles (the user search does not carry roles). */
export const listOrgMembers = (signal?: AbortSignal) => requestJson<OrgMember[]>('/api/org/users', { signal });

export const setOrgRole = (userId: number, role: OrgRole) =>
  requestJson<{ message: string }>(`/api/org/users/${userId}`, { method: 'PATCH', body: { role } });

// ---- Service accounts ----

export interface ServiceAccount {
  id: number;
  name: string;
  login: string;
  role: OrgRole | string;
  isDisabled: boolean;
  tokens: number;
}

export interface ServiceAccountPage {
  totalCount: number;
  serviceAccounts: ServiceAccount[];
  page: number;
  perPage: number;
}

export const searchServiceAccounts = (params: { query?: string; page: number; perpage: number }, signal?: AbortSignal) =>
  requestJson<ServiceAccountPage>(withQuery('/api/serviceaccounts/search', params), { signal });

export const createServiceAccount = (name: string, role: OrgRole) =>
  requestJson<ServiceAccount>('/api/serviceaccounts', { method: 'POST', body: { name, role } });

export const updateServiceAccountRole = (id: number, role: OrgRole) =>
  requestJson<{ message: string }>(`/api/serviceaccounts/${id}`, { method: 'PATCH', body: { role } });

export const deleteServiceAccount = (id: number) => requestJson<{ message: string }>(`/api/serviceaccounts/${id}`, { method: 'DELETE' });

export interface ServiceAccountToken {
  id: number;
  name: string;
  created?: string;
  lastUsedAt?: string | null;
  expiration?: string | null;
  hasExpired?: boolean;
}

export const listTokens = (accountId: number, signal?: AbortSignal) =>
  requestJson<ServiceAccountToken[]>(`/api/serviceaccounts/${accountId}/tokens`, { signal });

/** The answer carries the clear-text `key`, which the server never shows again. 0 seconds: no expiry. */
export const createToken = (accountId: number, name: string, secondsToLive: number) =>
  requestJson<{ id: number; name: string; key: string }>(`/api/serviceaccounts/${accountId}/tokens`, {
    method: 'POST',
    body: { name, secondsToLive },
  });

export const deleteToken = (accountId: number, tokenId: number) =>
  requestJson<{ message: string }>(`/api/serviceaccounts/${accountId}/tokens/${tokenId}`, { method: 'DELETE' });

// ---- Cluster ----

/** `GET /api/health` (no credentials needed); 503 with `database: "failing"` when the database is down. */
export interface Health {
  commit?: string;
  database?: string;
  version?: string;
  pharosVersion?: string;
}

export interface ClusterMember {
  id: string;
  address: string;
  version: string;
  startedAt: string;
  lastHeartbeat: string;
  healthy: boolean;
}

export interface ClusterLease {
  name: string;
  /** Empty when the lease was released. */
  holder: string;
  /** False when released, or expired and not yet taken again. */
  held?: boolean;
  fencingToken: number;
  /** Null when released. */
  expiresAt: string | null;
}

export interface ClusterStatus {
  members: ClusterMember[];
  leases: ClusterLease[];
}

export const getCluster = (signal?: AbortSignal) => requestJson<ClusterStatus>('/api/cluster', { signal });

export const getHealth = (signal?: AbortSignal) => requestJson<Health>('/api/health', { signal });

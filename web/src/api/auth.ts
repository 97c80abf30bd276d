import { requestJson } from './client';

export interface SignedInUser {
  id: number;
  login: string;
  name?: string;
  email?: string;
  theme?: string;
  orgId?: number;
  isGrafanaAdmin?: boolean;
}

export const getCurrentUser = (signal?: AbortSignal) => requestJson<SignedInUser>('/api/user', { signal });

export const login = (user: string, password: string) => requestJson<{ message?: string; redirectUrl?: string }>('/login', { method: 'POST', body: { user, password } });

export const changePassword = (oldPassword: string, newPassword: string, confirmNew: string) =>
  requestJson<{ message?: string }>('/api/user/password', { method: 'PUT', body: { oldPassword, newPassword, confirmNew } });

export interface UserOrg {
  orgId: number;
  name: string;
  role: 'Admin' | 'Editor' | 'Viewer' | 'None' | string;
}

/** The caller's orgs with its role in each: how the UI knows whether to offer admin pages. */
export const getUserOrgs = (signal?: AbortSignal) => requestJson<UserOrg[]>('/api/user/orgs', { signal });

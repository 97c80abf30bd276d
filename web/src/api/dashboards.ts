import { requestJson, withQuery } from './client';
import type { DashboardModel } from '../dashboard/model';

export interface SearchHit {
  id: number;
  uid: string;
  title: string;
  uri?: string;
  url: string;
  slug?: string;
  type: 'dash-db' | 'dash-folder' | string;
  tags: string[];
  isStarred: boolean;
  folderId?: number;
  folderUid?: string;
  folderTitle?: string;
}

export interface SearchParams {
  query?: string;
  tag?: string[];
  starred?: boolean;
  sort?: 'alpha-asc' | 'alpha-desc';
  type?: 'dash-db' | 'dash-folder';
  limit?: number;
}

export const searchDashboards = (params: SearchParams, signal?: AbortSignal) =>
  requestJson<SearchHit[]>(withQuery('/api/search', { ...params, starred: params.starred ? true : undefined }), { signal });

export const getTags = (signal?: AbortSignal) => requestJson<{ term: string; count: number }[]>('/api/dashboards/tags', { signal });

export interface DashboardResponse {
  dashboard: DashboardModel;
  meta: { slug?: string; url?: string; folderTitle?: string; folderUid?: string; canEdit?: boolean; isStarred?: boolean; [k: string]: unknown };
}

export const getDashboard = (uid: string, signal?: AbortSignal) => requestJson<DashboardResponse>(`/api/dashboards/uid/${encodeURIComponent(uid)}`, { signal });

export const starDashboard = (uid: string) => requestJson<unknown>(`/api/user/stars/dashboard/uid/${encodeURIComponent(uid)}`, { method: 'POST' });
export const unstarDashboard = (uid: string) => requestJson<unknown>(`/api/user/stars/dashboard/uid/${encodeURIComponent(uid)}`, { method: 'DELETE' });

export interface SaveDashboardRequest {
  dashboard: DashboardModel;
  message?: string;
  /** Save even if someone else saved a newer version (or took the title) first. */
  overwrite?: boolean;
  folderUid?: string;
}

export interface SaveDashboardResponse {
  id: number;
  uid: string;
  url: string;
  slug?: string;
  status: string;
  version: number;
}

/**
 * `POST /api/dashboards/db`. A stale `version` answers 412 with status `version-mismatch` (someone
 * else saved first), a title taken in the folder 412 `name-exists`: the ApiError carries the body.
 */
export const saveDashboard = (request: SaveDashboardRequest) => requestJson<SaveDashboardResponse>('/api/dashboards/db', { method: 'POST', body: request });

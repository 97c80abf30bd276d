// A dashboard's version history (list, one version's JSON, restore) and the folder list the settings
// and save dialog offer. Shapes as Grafana's API answers them.
import { requestJson } from './client';
import type { DashboardModel } from '../dashboard/model';

export interface DashboardVersion {
  id: number;
  dashboardId: number;
  uid: string;
  parentVersion: number;
  /** The version this one was restored from (0 when it is an ordinary save). */
  restoredFrom: number;
  version: number;
  /** RFC 3339 time of the save. */
  created: string;
  createdBy: string;
  message: string;
}

const base = (uid: string) => `/api/dashboards/uid/${encodeURIComponent(uid)}`;

/** `GET /api/dashboards/uid/:uid/versions`: newest first. */
export const listVersions = (uid: string, signal?: AbortSignal) =>
  requestJson<{ versions: DashboardVersion[]; continueToken?: string }>(`${base(uid)}/versions?limit=1000`, { signal }).then((r) => r.versions ?? []);

/** `GET /api/dashboards/uid/:uid/versions/:version`: the version's summary and its JSON (`data`). */
export const getVersion = (uid: string, version: number, signal?: AbortSignal) =>
  requestJson<DashboardVersion & { data: DashboardModel }>(`${base(uid)}/versions/${version}`, { signal });

/** `POST /api/dashboards/uid/:uid/restore`: saves `version`'s JSON as a new version. */
export const restoreVersion = (uid: string, version: number) =>
  requestJson<{ id: number; uid: string; url: string; version: number; status: string }>(`${base(uid)}/restore`, { method: 'POST', body: { version } });

export interface FolderOption {
  uid: string;
  title: string;
}

/** `GET /api/folders`: every folder of the org (General, uid '', is not in the list). */
export const listFolderOptions = (signal?: AbortSignal) =>
  requestJson<FolderOption[]>('/api/folders?limit=5000', { signal }).then((folders) => folders.map((f) => ({ uid: f.uid, title: f.title })));

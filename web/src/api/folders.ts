// Folders (one level, as Grafana without nested folders). Creating one needs the Editor role.
import { requestJson } from './client';

export interface FolderSummary {
  id: number;
  uid: string;
  title: string;
}

export interface Folder extends FolderSummary {
  /** `/dashboards/f/:uid/:slug`, the folder's page. */
  url: string;
  canSave?: boolean;
  version?: number;
}

/** Every folder of the org, including those without dashboards (search only finds what matches). */
export const listFolders = (signal?: AbortSignal) => requestJson<FolderSummary[]>('/api/folders?limit=5000', { signal });

export const getFolder = (uid: string, signal?: AbortSignal) => requestJson<Folder>(`/api/folders/${encodeURIComponent(uid)}`, { signal });

/** 409 with the server's message when a folder of that title (or uid) exists. */
export const createFolder = (title: string) => requestJson<Folder>('/api/folders', { method: 'POST', body: { title } });

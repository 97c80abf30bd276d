// Creating dashboards: an empty new one (POST /api/dashboards/db) and an import of exported JSON
// (POST /api/dashboards/import, which fills the dashboard's `__inputs` on the server).
import { ApiError, requestJson } from './client';

export interface SaveDashboardResponse {
  id: number;
  uid: string;
  url: string;
  status: string;
  version: number;
  slug: string;
  folderUid: string;
}

export interface NewDashboard {
  title: string;
  /** "" is the top level (Grafana's General). */
  folderUid: string;
  message?: string;
}

/** An empty dashboard in the schema the UI writes; 412 when one of that title is in the folder. */
export const createEmptyDashboard = ({ title, folderUid, message }: NewDashboard) =>
  requestJson<SaveDashboardResponse>('/api/dashboards/db', {
    method: 'POST',
    body: {
      dashboard: { title, panels: [], schemaVersion: 39, time: { from: 'now-6h', to: 'now' } },
      folderUid,
      message: message ?? '',
      overwrite: false,
    },
  });

export interface ImportInputValue {
  name: string;
  type: string;
  pluginId?: string;
  value: string;
}

export interface ImportRequest {
  dashboard: Record<string, unknown>;
  overwrite: boolean;
  inputs: ImportInputValue[];
  folderUid: string;
}

export interface ImportResponse {
  uid: string;
  title: string;
  slug: string;
  importedUrl: string;
  folderUid: string;
  dashboardId: number;
}

/** 412 when the uid or the title in the folder is taken (send again with `overwrite`). */
export const importDashboard = (request: ImportRequest) =>
  requestJson<ImportResponse>('/api/dashboards/import', { method: 'POST', body: request });

export interface DatasourceChoice {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
}

/**
 * The datasources an import can point at. GET /api/datasources is for org admins; an Editor (who may
 * import) reads the same list from the boot data, fetched afresh so a datasource just added shows.
 */
export async function listDatasourceChoices(signal?: AbortSignal): Promise<DatasourceChoice[]> {
  try {
    return await requestJson<DatasourceChoice[]>('/api/datasources', { signal });
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
    const settings = await requestJson<{ datasources: Record<string, DatasourceChoice> }>('/api/frontend/settings', { signal });
    return Object.values(settings.datasources).filter((ds) => ds.uid);
  }
}

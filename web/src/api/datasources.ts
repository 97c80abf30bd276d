// Grafana's datasource API (management needs the Admin role; a smaller role gets the server's 403).
import { requestJson } from './client';

/** A datasource as GET /api/datasources/uid/:uid answers it: never the secrets, only which are set. */
export interface Datasource {
  id?: number;
  uid: string;
  orgId?: number;
  name: string;
  type: string;
  typeName?: string;
  access?: string;
  url?: string;
  user?: string;
  database?: string;
  basicAuth?: boolean;
  basicAuthUser?: string;
  withCredentials?: boolean;
  isDefault?: boolean;
  jsonData?: Record<string, unknown>;
  secureJsonFields?: Record<string, boolean>;
  version?: number;
  readOnly?: boolean;
  // Fields not named here (Grafana adds some per version) are kept by spreading the original on save.
}

/** What PUT and POST take: the datasource plus the write-only secrets to set ("" clears one). */
export type DatasourceUpdate = Omit<Datasource, 'secureJsonFields'> & { secureJsonData?: Record<string, string> };

export interface HealthResult {
  status: 'OK' | 'ERROR' | string;
  message: string;
}

const byUid = (uid: string) => `/api/datasources/uid/${encodeURIComponent(uid)}`;

export const listDatasources = (signal?: AbortSignal) => requestJson<Datasource[]>('/api/datasources', { signal });

export const getDatasource = (uid: string, signal?: AbortSignal) => requestJson<Datasource>(byUid(uid), { signal });

export const createDatasource = (ds: Partial<DatasourceUpdate>) =>
  requestJson<{ datasource: Datasource; id: number; message: string; name: string }>('/api/datasources', { method: 'POST', body: ds });

export const updateDatasource = (uid: string, ds: DatasourceUpdate) =>
  requestJson<{ datasource?: Datasource; message: string }>(byUid(uid), { method: 'PUT', body: ds });

export const deleteDatasource = (uid: string) => requestJson<{ message: string }>(byUid(uid), { method: 'DELETE' });

/** The health check answers 400 with the same `{status, message}` shape when the source fails. */
export const checkHealth = (uid: string) => requestJson<HealthResult>(`${byUid(uid)}/health`);

import { ApiError, requestJson } from './client';
import type { QueryResponse } from '../lib/frames';
import type { VariableOption } from '../lib/variables';

export type DatasourceRef = { type?: string; uid?: string } | string | null | undefined;

export type RequestVariables = Record<string, string | string[]>;

export interface QueryRequest {
  from: string;
  to: string;
  queries: Record<string, unknown>[];
  variables: RequestVariables;
}

/**
 * POST /api/ds/query. A failed query makes the whole answer HTTP 400 while the others still answer,
 * so a 400 that carries `results` is returned as results, not thrown.
 */
export async function queryData(request: QueryRequest, signal?: AbortSignal): Promise<QueryResponse> {
  try {
    return await requestJson<QueryResponse>('/api/ds/query', { method: 'POST', body: request, signal });
  } catch (e) {
    if (e instanceof ApiError && e.body && typeof e.body === 'object' && 'results' in e.body) return e.body as QueryResponse;
    throw e;
  }
}

export interface VariableOptionsRequest {
  datasource: DatasourceRef;
  query: unknown;
  regex?: string;
  sort?: number;
  from: string;
  to: string;
  variables: RequestVariables;
}

export const variableOptions = (request: VariableOptionsRequest, signal?: AbortSignal) =>
  requestJson<{ options: VariableOption[] }>('/api/ds/variable-options', { method: 'POST', body: request, signal });

export interface FrontendDatasource {
  name: string;
  uid: string;
  type: string;
  isDefault?: boolean;
}

export interface FrontendSettings {
  datasources: Record<string, FrontendDatasource>;
  defaultDatasource: string;
  buildInfo?: { version?: string; pharosVersion?: string };
}

let settingsPromise: Promise<FrontendSettings> | undefined;

/** Boot data, fetched once per page load (it lists the org's datasources for datasource variables). */
export function frontendSettings(): Promise<FrontendSettings> {
  settingsPromise ??= requestJson<FrontendSettings>('/api/frontend/settings').catch((e) => {
    settingsPromise = undefined;
    throw e;
  });
  return settingsPromise;
}

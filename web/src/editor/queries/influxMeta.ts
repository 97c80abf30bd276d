// Suggestions for the InfluxQL builder (measurements, fields, tag keys and values), asked of the
// InfluxDB itself through Pharos' datasource proxy, which forwards `GET query` only.

import { requestJson } from '../../api/client';
import { frontendSettings } from '../../api/query';

/** InfluxDB 1.x's answer to `/query`: one result per statement, each with series of rows. */
interface InfluxResponse {
  results?: { error?: string; series?: { values?: unknown[][] }[] }[];
  error?: string;
}

const quoteIdent = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** `FROM "policy"."measurement"`, the policy left out when it is the default one. */
function from(measurement: string, policy: string): string {
  return `${policy && policy !== 'default' ? `${quoteIdent(policy)}.` : ''}${quoteIdent(measurement)}`;
}

export const metaQueries = {
  measurements: () => 'SHOW MEASUREMENTS LIMIT 500',
  fieldKeys: (measurement: string, policy: string) => `SHOW FIELD KEYS FROM ${from(measurement, policy)}`,
  tagKeys: (measurement: string, policy: string) => `SHOW TAG KEYS FROM ${from(measurement, policy)}`,
  tagValues: (measurement: string, policy: string, key: string) =>
    `SHOW TAG VALUES FROM ${from(measurement, policy)} WITH KEY = ${quoteIdent(key)} LIMIT 500`,
  retentionPolicies: () => 'SHOW RETENTION POLICIES',
};

/**
 * The names in a SHOW answer: the first column of every row (measurements, field keys, tag keys,
 * policies), or for `SHOW TAG VALUES` (rows of `[key, value]`) the second. Sorted, without repeats.
 * Throws the InfluxDB's own error message.
 */
export function namesFromResponse(response: InfluxResponse, column: 0 | 1 = 0): string[] {
  const result = response.results?.[0];
  const error = response.error ?? result?.error;
  if (error) throw new Error(error);
  const names = new Set<string>();
  for (const series of result?.series ?? []) for (const row of series.values ?? []) if (row[column] != null) names.add(String(row[column]));
  return [...names].sort((a, b) => a.localeCompare(b));
}

interface SettingsDatasource {
  uid: string;
  database?: string;
  jsonData?: { dbName?: string };
}

/** The database of an InfluxDB datasource, from the boot data every signed-in user may read. */
async function database(uid: string): Promise<string> {
  const settings = await frontendSettings();
  const ds = Object.values(settings.datasources as Record<string, SettingsDatasource>).find((d) => d.uid === uid);
  return ds?.jsonData?.dbName || ds?.database || '';
}

const cache = new Map<string, Promise<string[]>>();

/** Runs a SHOW statement through the proxy; answers are kept for the page's life (failures are not). */
export function influxNames(uid: string, statement: string, column: 0 | 1 = 0): Promise<string[]> {
  const key = `${uid}\u0000${statement}`;
  let names = cache.get(key);
  if (!names) {
    names = database(uid)
      .then((db) => {
        const params = new URLSearchParams({ q: statement, epoch: 'ms' });
        if (db) params.set('db', db);
        return requestJson<InfluxResponse>(`/api/datasources/proxy/uid/${encodeURIComponent(uid)}/query?${params}`);
      })
      .then((response) => namesFromResponse(response, column));
    names.catch(() => cache.delete(key));
    cache.set(key, names);
  }
  return names;
}

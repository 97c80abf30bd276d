// The settings form's model and its mapping to and from Grafana's datasource JSON. Pure, so the
// mapping (which jsonData and secureJsonData keys each field owns) is unit-tested on its own.

import type { Datasource, DatasourceUpdate } from '../api/datasources';

export interface DatasourceType {
  /** The plugin id the server stores. */
  id: string;
  name: string;
  description: string;
}

/** The types Pharos queries. TestData's current id; the server also accepts the legacy `testdata`. */
export const DATASOURCE_TYPES: DatasourceType[] = [
  { id: 'prometheus', name: 'Prometheus', description: 'Open source time series database and alerting' },
  { id: 'influxdb', name: 'InfluxDB', description: 'InfluxQL queries against InfluxDB 1.x' },
  { id: 'grafana-testdata-datasource', name: 'TestData', description: 'Generated data for trying dashboards out' },
];

export const typeName = (type: string) =>
  DATASOURCE_TYPES.find((t) => t.id === type)?.name ?? (type === 'testdata' ? 'TestData' : type);

/**
 * A write-only secret. `configured` means the server holds a value we never see; the form shows
 * "configured" with a Reset button instead of an input. Resetting makes it an input again; left
 * empty, the save clears the stored value.
 */
export interface Secret {
  configured: boolean;
  value: string;
}

export interface HeaderField {
  /** The N of jsonData.httpHeaderNameN / secureJsonData.httpHeaderValueN. Kept stable across edits,
   * because a configured value stays stored under its original N on the server. */
  index: number;
  name: string;
  value: Secret;
}

export type HttpMethod = 'GET' | 'POST';

export interface DatasourceForm {
  name: string;
  type: string;
  isDefault: boolean;
  url: string;
  // Prometheus
  basicAuth: boolean;
  basicAuthUser: string;
  basicAuthPassword: Secret;
  timeInterval: string;
  httpMethod: HttpMethod;
  headers: HeaderField[];
  tlsSkipVerify: boolean;
  // InfluxDB
  database: string;
  user: string;
  password: Secret;
  httpMode: HttpMethod;
}

const HEADER_NAME = /^httpHeaderName(\d+)$/;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const method = (v: unknown, fallback: HttpMethod): HttpMethod => (v === 'GET' || v === 'POST' ? v : fallback);
const secret = (ds: Datasource, key: string): Secret => ({ configured: !!ds.secureJsonFields?.[key], value: '' });

export function formFromDatasource(ds: Datasource): DatasourceForm {
  const json = ds.jsonData ?? {};
  const headers: HeaderField[] = [];
  for (const [key, value] of Object.entries(json)) {
    const m = HEADER_NAME.exec(key);
    if (m) headers.push({ index: Number(m[1]), name: str(value), value: secret(ds, `httpHeaderValue${m[1]}`) });
  }
  headers.sort((a, b) => a.index - b.index);
  return {
    name: ds.name,
    type: ds.type,
    isDefault: !!ds.isDefault,
    url: ds.url ?? '',
    basicAuth: !!ds.basicAuth,
    basicAuthUser: ds.basicAuthUser ?? '',
    basicAuthPassword: secret(ds, 'basicAuthPassword'),
    timeInterval: str(json.timeInterval),
    // Grafana's defaults: Prometheus queries with POST, InfluxDB with GET.
    httpMethod: method(json.httpMethod, 'POST'),
    headers,
    tlsSkipVerify: json.tlsSkipVerify === true,
    // Grafana moved the database into jsonData.dbName; older datasources have the top-level field.
    database: str(json.dbName) || (ds.database ?? ''),
    user: ds.user ?? '',
    password: secret(ds, 'password'),
    httpMode: method(json.httpMode, 'GET'),
  };
}

/** A new header gets the next unused N, so it never takes over a stored value. */
export function addHeader(form: DatasourceForm, original: Datasource): HeaderField[] {
  const used = [...form.headers.map((h) => h.index), ...Object.keys(original.jsonData ?? {}).map((k) => Number(HEADER_NAME.exec(k)?.[1] ?? 0))];
  return [...form.headers, { index: Math.max(0, ...used) + 1, name: '', value: { configured: false, value: '' } }];
}

/**
 * What to PUT: the original datasource (so fields and jsonData keys this form does not know are kept)
 * with the form's values on top. Secrets are sent only when typed or reset: an unchanged secret is
 * left out, which the server reads as "keep".
 */
export function datasourceFromForm(form: DatasourceForm, original: Datasource): DatasourceUpdate {
  const { secureJsonFields, ...rest } = original;
  const stored = secureJsonFields ?? {};
  const jsonData: Record<string, unknown> = { ...(original.jsonData ?? {}) };
  const secureJsonData: Record<string, string> = {};

  const putSecret = (key: string, s: Secret) => {
    if (s.configured) return; // unchanged: never re-send (we do not have it anyway)
    if (s.value !== '') secureJsonData[key] = s.value;
    else if (stored[key]) secureJsonData[key] = ''; // reset and left empty: clear it
  };
  const setOrDelete = (key: string, value: string) => {
    if (value) jsonData[key] = value;
    else delete jsonData[key];
  };

  const out: DatasourceUpdate = { ...rest, name: form.name.trim(), isDefault: form.isDefault };

  if (form.type === 'prometheus') {
    out.url = form.url.trim();
    out.basicAuth = form.basicAuth;
    out.basicAuthUser = form.basicAuth ? form.basicAuthUser : '';
    if (form.basicAuth) putSecret('basicAuthPassword', form.basicAuthPassword);
    else if (stored.basicAuthPassword) secureJsonData.basicAuthPassword = '';
    setOrDelete('timeInterval', form.timeInterval.trim());
    jsonData.httpMethod = form.httpMethod;
    if (form.tlsSkipVerify) jsonData.tlsSkipVerify = true;
    else delete jsonData.tlsSkipVerify;
    // Headers removed in the form: drop their names and clear their stored values.
    const kept = new Set(form.headers.map((h) => h.index));
    for (const key of Object.keys(jsonData)) {
      const m = HEADER_NAME.exec(key);
      if (m && !kept.has(Number(m[1]))) {
        delete jsonData[key];
        if (stored[`httpHeaderValue${m[1]}`]) secureJsonData[`httpHeaderValue${m[1]}`] = '';
      }
    }
    for (const h of form.headers) {
      jsonData[`httpHeaderName${h.index}`] = h.name.trim();
      putSecret(`httpHeaderValue${h.index}`, h.value);
    }
  } else if (form.type === 'influxdb') {
    out.url = form.url.trim();
    out.user = form.user;
    setOrDelete('dbName', form.database.trim());
    // The server reads dbName; the legacy field is kept in step so older clients see the same.
    out.database = form.database.trim();
    jsonData.httpMode = form.httpMode;
    putSecret('password', form.password);
  }

  out.jsonData = jsonData;
  if (Object.keys(secureJsonData).length) out.secureJsonData = secureJsonData;
  return out;
}

/** "Prometheus", then "Prometheus-1", …: a name the org does not have yet (names are unique). */
export function newDatasourceName(type: string, existing: string[]): string {
  const base = typeName(type);
  const taken = new Set(existing.map((n) => n.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}-${i}`.toLowerCase())) return `${base}-${i}`;
}

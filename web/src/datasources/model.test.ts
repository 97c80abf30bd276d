import { describe, expect, it } from 'vitest';
import type { Datasource } from '../api/datasources';
import { addHeader, datasourceFromForm, formFromDatasource, newDatasourceName } from './model';

const prometheus: Datasource = {
  id: 3,
  uid: 'prom',
  name: 'Prom',
  type: 'prometheus',
  access: 'proxy',
  url: 'http://prom:9090',
  basicAuth: true,
  basicAuthUser: 'alice',
  isDefault: false,
  version: 4,
  jsonData: { timeInterval: '15s', httpMethod: 'GET', httpHeaderName1: 'X-Org', httpHeaderName2: 'X-Team', manageAlerts: false, customKey: { a: 1 } },
  secureJsonFields: { basicAuthPassword: true, httpHeaderValue1: true, httpHeaderValue2: true },
};

const influx: Datasource = {
  uid: 'influx',
  name: 'Influx',
  type: 'influxdb',
  url: 'http://influx:8086',
  user: 'bob',
  jsonData: { dbName: 'metrics', httpMode: 'POST', version: 'InfluxQL' },
  secureJsonFields: { password: true },
};

describe('formFromDatasource', () => {
  it('reads Prometheus settings, showing stored secrets as configured without values', () => {
    const form = formFromDatasource(prometheus);
    expect(form).toMatchObject({ name: 'Prom', url: 'http://prom:9090', basicAuth: true, basicAuthUser: 'alice', timeInterval: '15s', httpMethod: 'GET', tlsSkipVerify: false });
    expect(form.basicAuthPassword).toEqual({ configured: true, value: '' });
    expect(form.headers).toEqual([
      { index: 1, name: 'X-Org', value: { configured: true, value: '' } },
      { index: 2, name: 'X-Team', value: { configured: true, value: '' } },
    ]);
  });

  it("uses Grafana's defaults for missing HTTP methods", () => {
    expect(formFromDatasource({ ...prometheus, jsonData: {} }).httpMethod).toBe('POST');
    expect(formFromDatasource({ ...influx, jsonData: {} }).httpMode).toBe('GET');
  });

  it('reads InfluxDB settings, falling back to the legacy database field', () => {
    expect(formFromDatasource(influx)).toMatchObject({ database: 'metrics', user: 'bob', httpMode: 'POST', password: { configured: true, value: '' } });
    expect(formFromDatasource({ ...influx, jsonData: {}, database: 'old' }).database).toBe('old');
  });
});

describe('datasourceFromForm', () => {
  it('sends an unchanged form back as it came, with unknown jsonData keys and no secrets', () => {
    const out = datasourceFromForm(formFromDatasource(prometheus), prometheus);
    expect(out.jsonData).toEqual(prometheus.jsonData);
    expect(out.secureJsonData).toBeUndefined();
    expect(out).not.toHaveProperty('secureJsonFields');
    expect(out).toMatchObject({ id: 3, uid: 'prom', version: 4, access: 'proxy', basicAuthUser: 'alice' });
  });

  it('maps edited Prometheus fields to jsonData and typed secrets to secureJsonData', () => {
    const form = formFromDatasource(prometheus);
    form.name = '  Renamed ';
    form.timeInterval = '';
    form.httpMethod = 'POST';
    form.tlsSkipVerify = true;
    form.basicAuthPassword = { configured: false, value: 's3cret' };
    form.headers[1].value = { configured: false, value: 'blue' };
    const out = datasourceFromForm(form, prometheus);
    expect(out.name).toBe('Renamed');
    expect(out.jsonData).toEqual({ httpMethod: 'POST', tlsSkipVerify: true, httpHeaderName1: 'X-Org', httpHeaderName2: 'X-Team', manageAlerts: false, customKey: { a: 1 } });
    expect(out.secureJsonData).toEqual({ basicAuthPassword: 's3cret', httpHeaderValue2: 'blue' });
  });

  it('clears a secret that was reset and left empty', () => {
    const form = formFromDatasource(prometheus);
    form.basicAuthPassword = { configured: false, value: '' };
    expect(datasourceFromForm(form, prometheus).secureJsonData).toEqual({ basicAuthPassword: '' });
  });

  it('clears the password when basic auth is turned off', () => {
    const form = formFromDatasource(prometheus);
    form.basicAuth = false;
    const out = datasourceFromForm(form, prometheus);
    expect(out).toMatchObject({ basicAuth: false, basicAuthUser: '' });
    expect(out.secureJsonData).toEqual({ basicAuthPassword: '' });
  });

  it('removes a header without renumbering the others, and clears its stored value', () => {
    const form = formFromDatasource(prometheus);
    form.headers = form.headers.filter((h) => h.index !== 1);
    const out = datasourceFromForm(form, prometheus);
    expect(out.jsonData).not.toHaveProperty('httpHeaderName1');
    expect(out.jsonData?.httpHeaderName2).toBe('X-Team');
    expect(out.secureJsonData).toEqual({ httpHeaderValue1: '' });
  });

  it('gives a new header the next unused number, even after one was removed', () => {
    const form = formFromDatasource(prometheus);
    form.headers = form.headers.filter((h) => h.index !== 2);
    form.headers = addHeader(form, prometheus);
    expect(form.headers.map((h) => h.index)).toEqual([1, 3]);
    form.headers[1] = { ...form.headers[1], name: 'X-New', value: { configured: false, value: 'v' } };
    const out = datasourceFromForm(form, prometheus);
    expect(out.jsonData).toMatchObject({ httpHeaderName1: 'X-Org', httpHeaderName3: 'X-New' });
    expect(out.secureJsonData).toEqual({ httpHeaderValue2: '', httpHeaderValue3: 'v' });
  });

  it('maps InfluxDB fields, keeping unknown jsonData keys and the stored password', () => {
    const form = formFromDatasource(influx);
    form.database = 'other';
    form.httpMode = 'GET';
    const out = datasourceFromForm(form, influx);
    expect(out.jsonData).toEqual({ dbName: 'other', httpMode: 'GET', version: 'InfluxQL' });
    expect(out).toMatchObject({ database: 'other', user: 'bob' });
    expect(out.secureJsonData).toBeUndefined();
    form.password = { configured: false, value: 'pw' };
    expect(datasourceFromForm(form, influx).secureJsonData).toEqual({ password: 'pw' });
  });

  it('leaves TestData as it was but for name and default', () => {
    const testdata: Datasource = { uid: 't', name: 'TestData', type: 'grafana-testdata-datasource', jsonData: { x: 1 } };
    const form = formFromDatasource(testdata);
    form.name = 'E2E';
    form.isDefault = true;
    expect(datasourceFromForm(form, testdata)).toEqual({ uid: 't', name: 'E2E', type: 'grafana-testdata-datasource', isDefault: true, jsonData: { x: 1 } });
  });
});

describe('newDatasourceName', () => {
  it('takes the type name, then numbers it', () => {
    expect(newDatasourceName('prometheus', [])).toBe('Prometheus');
    expect(newDatasourceName('prometheus', ['prometheus', 'Prometheus-1'])).toBe('Prometheus-2');
    expect(newDatasourceName('grafana-testdata-datasource', ['Other'])).toBe('TestData');
  });
});

import { describe, expect, it } from 'vitest';
import type { DatasourceChoice } from '../../api/import';
import { buildImportRequest, conflictMessage, dashboardInputs, datasourceVariables, datasourcesOfType, importProblem, initialChoices, parseDashboardJson, withDefaultChoices, type ImportForm } from './importModel';

const datasources: DatasourceChoice[] = [
  { uid: 'prom-b', name: 'Prom B', type: 'prometheus' },
  { uid: 'prom-a', name: 'Prom A', type: 'prometheus', isDefault: true },
  { uid: 'influx', name: 'Influx', type: 'influxdb' },
  { uid: 'td', name: 'TestData', type: 'testdata' },
];

const exported = {
  __inputs: [
    { name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' },
    { name: 'VAR_JOB', label: 'Job', type: 'constant', value: 'node' },
  ],
  __requires: [],
  id: 7,
  uid: 'abc',
  title: 'Exported',
  panels: [{ id: 1, datasource: { type: 'prometheus', uid: '${DS_PROMETHEUS}' } }],
  templating: { list: [{ name: 'job', type: 'constant', query: '${VAR_JOB}' }] },
};

describe('parseDashboardJson', () => {
  it('reads a dashboard object', () => {
    const parsed = parseDashboardJson(JSON.stringify(exported));
    expect(parsed.ok && parsed.dashboard.title).toBe('Exported');
  });

  it('unwraps the {dashboard, meta} answer of the dashboard API', () => {
    const parsed = parseDashboardJson(JSON.stringify({ dashboard: { title: 'X', panels: [] }, meta: { slug: 'x' } }));
    expect(parsed.ok && parsed.dashboard.title).toBe('X');
  });

  it('says why invalid input is refused', () => {
    expect(parseDashboardJson('')).toEqual({ ok: false, error: expect.stringContaining('Paste') });
    expect(parseDashboardJson('{"title": ')).toEqual({ ok: false, error: expect.stringMatching(/^Not valid JSON: /) });
    expect(parseDashboardJson('[1, 2]')).toEqual({ ok: false, error: expect.stringContaining('must be an object') });
    expect(parseDashboardJson('{"foo": 1}')).toEqual({ ok: false, error: expect.stringContaining('no title, panels or rows') });
  });
});

describe('inputs and variables', () => {
  it('lists __inputs with labels and plugin ids', () => {
    expect(dashboardInputs(exported)).toEqual([
      { name: 'DS_PROMETHEUS', label: 'Prometheus', description: undefined, type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus', value: undefined },
      { name: 'VAR_JOB', label: 'Job', description: undefined, type: 'constant', pluginId: undefined, pluginName: undefined, value: 'node' },
    ]);
    expect(dashboardInputs({ title: 'no inputs' })).toEqual([]);
    expect(dashboardInputs({ __inputs: [{ label: 'nameless' }, 'junk'] })).toEqual([]);
  });

  it('offers datasources of the type, the default first', () => {
    expect(datasourcesOfType(datasources, 'prometheus').map((d) => d.uid)).toEqual(['prom-a', 'prom-b']);
    expect(datasourcesOfType(datasources, 'grafana-testdata-datasource').map((d) => d.uid)).toEqual(['td']);
    expect(datasourcesOfType(datasources, 'loki')).toEqual([]);
  });

  it('preselects the default datasource and the constant value', () => {
    expect(initialChoices(dashboardInputs(exported), [], datasources)).toEqual({ DS_PROMETHEUS: 'prom-a', VAR_JOB: 'node' });
    expect(initialChoices(dashboardInputs({ __inputs: [{ name: 'DS_LOKI', type: 'datasource', pluginId: 'loki' }] }), [], datasources)).toEqual({ DS_LOKI: '' });
  });
});

describe('importProblem', () => {
  const form: ImportForm = { dashboard: exported, title: 'T', uid: 'abc', folderUid: '', overwrite: false, choices: { DS_PROMETHEUS: 'prom-a', VAR_JOB: 'node' } };

  it('accepts a complete form', () => {
    expect(importProblem(form, datasources)).toBeUndefined();
  });

  it('needs a title, a valid uid and every datasource', () => {
    expect(importProblem({ ...form, title: '  ' }, datasources)).toMatch(/title/);
    expect(importProblem({ ...form, uid: 'has space' }, datasources)).toMatch(/uid/);
    expect(importProblem({ ...form, uid: 'x'.repeat(41) }, datasources)).toMatch(/uid/);
    expect(importProblem({ ...form, choices: { VAR_JOB: 'node' } }, datasources)).toBe('Choose a Prometheus data source for Prometheus.');
    expect(importProblem({ ...form, choices: {} }, [])).toBe('No Prometheus data source exists for Prometheus: add one first.');
  });
});

describe('buildImportRequest', () => {
  it('sends the inputs by name, the edited title and uid, and the folder', () => {
    const request = buildImportRequest(
      { dashboard: exported, title: ' New title ', uid: 'new-uid', folderUid: 'f1', overwrite: true, choices: { DS_PROMETHEUS: 'prom-b', VAR_JOB: 'api' } },
      datasources,
    );
    expect(request.inputs).toEqual([
      { name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus', value: 'prom-b' },
      { name: 'VAR_JOB', type: 'constant', value: 'api' },
    ]);
    expect(request.dashboard.title).toBe('New title');
    expect(request.dashboard.uid).toBe('new-uid');
    expect(request.folderUid).toBe('f1');
    expect(request.overwrite).toBe(true);
    // The server fills `${DS_PROMETHEUS}` from the inputs; the dashboard goes as exported.
    expect(request.dashboard.panels).toBe(exported.panels);
    expect(exported.title).toBe('Exported');
  });

  it('lets the server pick a uid when it is cleared', () => {
    const request = buildImportRequest({ dashboard: exported, title: 'T', uid: '', folderUid: '', overwrite: false, choices: {} }, datasources);
    expect('uid' in request.dashboard).toBe(false);
  });

  it('saves a chosen datasource as the datasource variable\'s current value', () => {
    const dashboard = { title: 'D', templating: { list: [{ name: 'ds', type: 'datasource', query: 'prometheus', current: {} }, { name: 'job', type: 'query' }] } };
    const variables = datasourceVariables(dashboard);
    expect(variables).toEqual([{ name: 'ds', label: 'ds', pluginId: 'prometheus' }]);
    const choices = initialChoices([], variables, datasources);
    expect(choices).toEqual({ ds: 'prom-a' });
    const request = buildImportRequest({ dashboard, title: 'D', uid: '', folderUid: '', overwrite: false, choices }, datasources);
    const list = (request.dashboard.templating as { list: unknown[] }).list;
    expect(list[0]).toEqual({ name: 'ds', type: 'datasource', query: 'prometheus', current: { selected: true, text: 'Prom A', value: 'prom-a' } });
    expect(list[1]).toEqual({ name: 'job', type: 'query' });
    expect(request.inputs).toEqual([]);
  });

  // The shared fixtures live beside the repository (../shared, as the server's tests read them).
  const fixtures = import.meta.glob<string>('../../../../../shared/fixtures/dashboards/node-exporter-full.json', { query: '?raw', import: 'default', eager: true });
  const nodeExporter = Object.values(fixtures)[0];

  it.skipIf(!nodeExporter)('handles the node-exporter-full fixture (a datasource variable, no __inputs)', () => {
    const text = nodeExporter;
    const parsed = parseDashboardJson(text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(dashboardInputs(parsed.dashboard)).toEqual([]);
    const variables = datasourceVariables(parsed.dashboard);
    expect(variables.map((v) => v.pluginId)).toEqual(['prometheus']);
    const form = { dashboard: parsed.dashboard, title: 'Node Exporter Full', uid: 'rYdddlPWk', folderUid: '', overwrite: false, choices: initialChoices([], variables, datasources) };
    expect(importProblem(form, datasources)).toBeUndefined();
    const request = buildImportRequest(form, datasources);
    expect(JSON.stringify(request.dashboard.templating)).toContain('"value":"prom-a"');
  });
});

describe('conflictMessage', () => {
  it('says which conflict it is', () => {
    expect(conflictMessage('version-mismatch', 'The dashboard has been changed by someone else')).toMatch(/same uid/);
    expect(conflictMessage('name-exists', 'x')).toMatch(/same name/);
    expect(conflictMessage(undefined, 'other')).toBe('other');
  });
});

describe('withDefaultChoices', () => {
  it('fills what the user has not chosen, keeping what they have (even an empty choice)', () => {
    const dashboard = { ...exported, templating: { list: [{ name: 'ds', type: 'datasource', query: 'prometheus' }] } };
    const form: ImportForm = { dashboard, title: 'T', uid: '', folderUid: '', overwrite: false, choices: { DS_PROMETHEUS: 'prom-b', ds: '' } };
    expect(withDefaultChoices(form, datasources).choices).toEqual({ DS_PROMETHEUS: 'prom-b', VAR_JOB: 'node', ds: '' });
    // Before the datasource list arrives there is nothing to preselect.
    expect(withDefaultChoices({ ...form, choices: {} }, []).choices).toEqual({ DS_PROMETHEUS: '', VAR_JOB: 'node', ds: '' });
  });
});

// The import page's pure logic: reading pasted or uploaded JSON, the choices a dashboard asks for
// (its `__inputs`, Grafana's export format, and its datasource variables), and the request to send.

import type { DatasourceChoice, ImportInputValue, ImportRequest } from '../../api/import';

export type Dashboard = Record<string, unknown>;

export type Parsed = { ok: true; dashboard: Dashboard } | { ok: false; error: string };

/**
 * The dashboard in `text`: an exported dashboard, or the `{dashboard, meta}` answer of
 * GET /api/dashboards/uid/:uid (unwrapped). Anything else is a clear error, never a request.
 */
export function parseDashboardJson(text: string): Parsed {
  if (!text.trim()) return { ok: false, error: 'Paste a dashboard JSON model or choose a .json file.' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (isObject(value) && isObject(value.dashboard) && isObject(value.meta)) value = value.dashboard;
  if (!isObject(value)) return { ok: false, error: 'Not a dashboard: the JSON must be an object ({ … }).' };
  if (!Array.isArray(value.panels) && !Array.isArray(value.rows) && typeof value.title !== 'string') {
    return { ok: false, error: 'Not a dashboard: it has no title, panels or rows.' };
  }
  return { ok: true, dashboard: value };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One entry of an exported dashboard's `__inputs`. */
export interface DashboardInput {
  name: string;
  label: string;
  description?: string;
  type: 'datasource' | 'constant' | string;
  pluginId?: string;
  pluginName?: string;
  /** A constant's exported value (the default of its text field). */
  value?: string;
}

export function dashboardInputs(dashboard: Dashboard): DashboardInput[] {
  const inputs = Array.isArray(dashboard.__inputs) ? dashboard.__inputs : [];
  return inputs.filter(isObject).flatMap((input) => {
    if (typeof input.name !== 'string' || !input.name) return [];
    return [
      {
        name: input.name,
        label: typeof input.label === 'string' && input.label ? input.label : input.name,
        description: typeof input.description === 'string' ? input.description : undefined,
        type: typeof input.type === 'string' ? input.type : 'constant',
        pluginId: typeof input.pluginId === 'string' ? input.pluginId : undefined,
        pluginName: typeof input.pluginName === 'string' ? input.pluginName : undefined,
        value: input.value === undefined || input.value === null ? undefined : String(input.value),
      },
    ];
  });
}

/**
 * A datasource variable (`type: "datasource"`, `query` = plugin id), such as node-exporter-full's
 * `ds_prometheus`. Dashboards shared this way have no `__inputs`; choosing the datasource here
 * saves it as the variable's current value, so the imported dashboard opens on it.
 */
export interface DatasourceVariable {
  name: string;
  label: string;
  pluginId: string;
}

export function datasourceVariables(dashboard: Dashboard): DatasourceVariable[] {
  const templating = isObject(dashboard.templating) ? dashboard.templating : {};
  const list = Array.isArray(templating.list) ? templating.list : [];
  return list.filter(isObject).flatMap((v) => {
    if (v.type !== 'datasource' || typeof v.name !== 'string' || typeof v.query !== 'string' || !v.query) return [];
    return [{ name: v.name, label: typeof v.label === 'string' && v.label ? v.label : v.name, pluginId: v.query }];
  });
}

/** The datasources a choice for `pluginId` offers, the org's default first. */
export function datasourcesOfType(datasources: readonly DatasourceChoice[], pluginId: string | undefined): DatasourceChoice[] {
  return datasources
    .filter((ds) => ds.type === pluginId || (pluginId === 'grafana-testdata-datasource' && ds.type === 'testdata'))
    .sort((a, b) => Number(!!b.isDefault) - Number(!!a.isDefault) || a.name.localeCompare(b.name));
}

/** What the form preselects: the first (default) datasource of each type, each constant's value. */
export function initialChoices(inputs: readonly DashboardInput[], variables: readonly DatasourceVariable[], datasources: readonly DatasourceChoice[]): Record<string, string> {
  const choices: Record<string, string> = {};
  for (const input of inputs) {
    choices[input.name] = input.type === 'datasource' ? (datasourcesOfType(datasources, input.pluginId)[0]?.uid ?? '') : (input.value ?? '');
  }
  for (const v of variables) {
    // An input of the same name wins (its `${NAME}` is what the JSON uses).
    if (!(v.name in choices)) choices[v.name] = datasourcesOfType(datasources, v.pluginId)[0]?.uid ?? '';
  }
  return choices;
}

/**
 * The form with every choice the user has not made filled from `initialChoices`. Defaults are
 * derived, not stored, so a datasource list that arrives after "Load" (an upload loads at once)
 * still preselects.
 */
export function withDefaultChoices(form: ImportForm, datasources: readonly DatasourceChoice[]): ImportForm {
  const defaults = initialChoices(dashboardInputs(form.dashboard), datasourceVariables(form.dashboard), datasources);
  return { ...form, choices: { ...defaults, ...form.choices } };
}

export interface ImportForm {
  dashboard: Dashboard;
  title: string;
  uid: string;
  folderUid: string;
  overwrite: boolean;
  /** Input or variable name → datasource uid (or a constant's text): what the user chose. */
  choices: Record<string, string>;
}

/** The first thing that stops an import, as the message to show; undefined when it can be sent. */
export function importProblem(form: ImportForm, datasources: readonly DatasourceChoice[]): string | undefined {
  if (!form.title.trim()) return 'The dashboard needs a title.';
  if (form.uid && !/^[a-zA-Z0-9_-]{1,40}$/.test(form.uid)) return 'The uid may only hold letters, digits, - and _ (at most 40).';
  for (const input of dashboardInputs(form.dashboard)) {
    if (input.type !== 'datasource' || form.choices[input.name]) continue;
    const kind = input.pluginName || input.pluginId || 'matching';
    return datasourcesOfType(datasources, input.pluginId).length === 0
      ? `No ${kind} data source exists for ${input.label}: add one first.`
      : `Choose a ${kind} data source for ${input.label}.`;
  }
  return undefined;
}

/** The body of POST /api/dashboards/import: the edited title and uid, the inputs, the variables' choices. */
export function buildImportRequest(form: ImportForm, datasources: readonly DatasourceChoice[]): ImportRequest {
  const inputs = dashboardInputs(form.dashboard);
  const dashboard: Dashboard = { ...form.dashboard, title: form.title.trim() };
  if (form.uid.trim()) dashboard.uid = form.uid.trim();
  // No uid: the server makes one (an exported null or "" would be refused or kept as is).
  else delete dashboard.uid;

  const inputNames = new Set(inputs.map((i) => i.name));
  const chosenVariables = datasourceVariables(form.dashboard).filter((v) => !inputNames.has(v.name) && form.choices[v.name]);
  if (chosenVariables.length > 0) dashboard.templating = withVariableCurrent(dashboard.templating, chosenVariables, form.choices, datasources);

  const values: ImportInputValue[] = inputs.map((input) => ({
    name: input.name,
    type: input.type,
    ...(input.pluginId ? { pluginId: input.pluginId } : {}),
    value: form.choices[input.name] ?? '',
  }));
  return { dashboard, overwrite: form.overwrite, inputs: values, folderUid: form.folderUid };
}

/** A copy of `templating` whose chosen datasource variables carry the choice as `current`. */
function withVariableCurrent(templating: unknown, chosen: readonly DatasourceVariable[], choices: Record<string, string>, datasources: readonly DatasourceChoice[]): unknown {
  if (!isObject(templating) || !Array.isArray(templating.list)) return templating;
  const names = new Set(chosen.map((v) => v.name));
  const list = templating.list.map((v: unknown) => {
    if (!isObject(v) || typeof v.name !== 'string' || !names.has(v.name)) return v;
    const uid = choices[v.name];
    const name = datasources.find((ds) => ds.uid === uid)?.name ?? uid;
    return { ...v, current: { selected: true, text: name, value: uid } };
  });
  return { ...templating, list };
}

/** The server's 412 messages, said for an import (a taken uid reads "changed by someone else"). */
export function conflictMessage(status: string | undefined, serverMessage: string): string {
  if (status === 'version-mismatch') return 'A dashboard with the same uid already exists.';
  if (status === 'name-exists') return 'A dashboard with the same name already exists in this folder.';
  return serverMessage;
}

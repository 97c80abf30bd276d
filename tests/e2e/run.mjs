#!/usr/bin/env node
// End-to-end tests of the web UI in a real browser: Debian's Chromium driven by playwright-core.
//
//     cd tests/e2e && npm ci && node run.mjs            (scripts/test runs it as "e2e (chromium)")
//
// It starts, each on a free loopback port and all in one temporary directory:
//   - `target/debug/pharos serve` (PHAROS_BIN overrides) with a fresh SQLite database and the demo
//     data (the TestData datasource and the "Pharos demo" dashboard, uid pharos-demo);
//   - `prometheus-node-exporter`, and `prometheus` (its own storage) scraping the node exporter every
//     second as job "node" and again as job "node2" (so that the dashboard's `job` variable has two
//     values to switch between), and itself; the run waits until Prometheus has samples of
//     `node_cpu_seconds_total`, then creates the Prometheus datasource (uid `prom`) in Pharos.
// Then it runs each scenario in one browser context, signed in as admin (a scenario that signs in as
// someone else opens a context of its own): login; browse; the demo dashboard; datasources with
// Save & test; node-exporter-full imported through the import page and viewed row by row against
// Prometheus; time range and variable changes (URL and refetches); editing (a PromQL query typed
// with completion and saved with a message; the 412 conflict dialog's Overwrite and Reload; a row
// added and a panel dragged, positions saved); the profile page (dark theme kept over a reload, a
// password change effective at once); administration (a folder and a dashboard in it from
// the browse page's New menu; a user created and made an Editor, then signed in as it: /dashboards
// opens, /admin/users shows the server's 403; a service account and a token whose key, shown once,
// authenticates the API; the cluster page: members and the maintenance lease from /api/cluster); a dashboard's version history (two
// versions compared, the older restored as a new version); and the inspect drawer of a demo time
// series (data table, query request). Every console error and uncaught page exception is recorded
// and fails the run. A screenshot of each scenario's page is written to the folder printed at the
// start (PHAROS_E2E_SCREENSHOTS overrides it). One "ok"/"FAIL" line per scenario, then "e2e
// (chromium): N passed, M failed"; exit status 1 when anything failed. Every process it started
// is killed at the end, on failure and on Ctrl-C.
//
// Environment: PHAROS_BIN (the server binary), PHAROS_SERVER_WEB_DIR (passed to Pharos: serve a UI
// built elsewhere, e.g. `npx vite build --outDir /tmp/x`), CHROMIUM (default /usr/bin/chromium),
// PHAROS_E2E_SCREENSHOTS (screenshot folder), PHAROS_E2E_ONLY (run scenarios whose name contains it;
// the login scenario always runs first), PHAROS_E2E_IMPORT_VIA_API=1 (import node-exporter-full
// through the API instead of the UI's import page: a fallback for checkouts without that page; off by
// default, so a missing import page fails the run).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { expandAllRows, scrollThroughDashboard } from './lib/dashboard.mjs';
import {
  byTestId,
  fail,
  rangeOf,
  recordProblems,
  recordQueries,
  ScenarioError,
  settlePaint,
  waitForVisiblePanels,
} from './lib/page.mjs';
import { startPharos } from './lib/pharos.mjs';
import { startNodeExporter, startPrometheus, waitForSamples } from './lib/prometheus.mjs';
import { tail } from './lib/processes.mjs';
import { scenarios as alertingRuleScenarios } from './scenarios/alerting-rules.mjs';
import { scenarios as alertingNotificationScenarios } from './scenarios/alerting-notifications.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const pharosBin = process.env.PHAROS_BIN || path.join(targetDir, 'debug', 'pharos');
const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const shotsDir = path.resolve(
  process.env.PHAROS_E2E_SCREENSHOTS || path.join(targetDir, 'e2e-screenshots', stamp),
);
const only = process.env.PHAROS_E2E_ONLY || '';
const importViaApi = process.env.PHAROS_E2E_IMPORT_VIA_API === '1';
const nodeExporterFullPath = path.resolve(root, '../shared/fixtures/dashboards/node-exporter-full.json');

/** Flags Chromium needs headless as root on these machines (the HANDBOOK's list). Playwright gives
 * each launch a fresh temporary profile (--user-data-dir) and adds --headless itself. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long one scenario may take before it fails (a scenario may say otherwise: `timeoutMs`). */
const SCENARIO_TIMEOUT_MS = 120_000;
/** The Prometheus datasource the run creates in Pharos. */
const PROM_UID = 'prom';
/** The scrape jobs of the one node exporter: two, so that the `job` variable has a value to change to. */
const NODE_JOBS = ['node', 'node2'];

// --- scenarios: signing in, browsing, the demo dashboard ---------------------------------------

const basicScenarios = [
  {
    name: 'login as admin/admin (skipping the change-password offer)',
    shot: 'login',
    always: true,
    async run({ page, base }) {
      await page.goto(`${base}/login`);
      await page.fill(byTestId('login-user'), 'admin');
      await page.fill(byTestId('login-password'), 'admin');
      await page.click(byTestId('login-submit'));
      // The default password brings the offer to change it; skip it.
      const skip = page.locator(byTestId('change-password-skip'));
      await skip
        .waitFor({ state: 'visible', timeout: 10_000 })
        .catch(() => fail('no change-password offer ([data-testid="change-password-skip"]) after logging in with the default password'));
      await skip.click();
      await page
        .waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 })
        .catch(() => fail(`still on ${page.url()} after skipping the change-password offer`));
      const cookies = await page.context().cookies(base);
      if (!cookies.some((c) => c.name === 'pharos_session')) {
        fail('no pharos_session cookie after logging in');
      }
    },
  },
  {
    name: 'the browse page lists "Pharos demo"',
    shot: 'browse',
    async run({ page, base }) {
      await page.goto(`${base}/dashboards`);
      const item = page.locator(byTestId('browse-item'), { hasText: 'Pharos demo' });
      await item
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 })
        .catch(async () => {
          const items = await page.locator(byTestId('browse-item')).allTextContents();
          fail(`no [data-testid="browse-item"] with "Pharos demo" on /dashboards (items: ${JSON.stringify(items)})`);
        });
    },
  },
  {
    name: 'the demo dashboard draws every visible panel (none in error)',
    shot: 'demo-dashboard',
    async run({ page, base }) {
      await page.goto(`${base}/d/pharos-demo`);
      const panels = await waitForVisiblePanels(page);
      if (!panels.length) fail('the demo dashboard shows no panels');
      for (const id of ['time-picker', 'refresh-button']) {
        if (!(await page.locator(byTestId(id)).first().isVisible())) {
          fail(`no visible [data-testid="${id}"] on the dashboard`);
        }
      }
    },
  },
  {
    name: 'changing the time range in the URL (?from=now-1h&to=now) refetches',
    shot: 'demo-last-1h',
    async run({ page, base }) {
      const queries = recordQueries(page);
      try {
        await page.goto(`${base}/d/pharos-demo?from=now-6h&to=now`);
        await waitForVisiblePanels(page);
        if (!queries.length) fail('the dashboard drew its panels without a POST /api/ds/query');
        const changedAt = Date.now();
        await page.goto(`${base}/d/pharos-demo?from=now-1h&to=now`);
        await waitForVisiblePanels(page);
        assertRefetched(queries.filter((q) => q.at >= changedAt), 3_600_000, 'the time range changed in the URL');
        const url = new URL(page.url());
        if (url.searchParams.get('from') !== 'now-1h' || url.searchParams.get('to') !== 'now') {
          fail(`the URL lost the range: ${page.url()}`);
        }
      } finally {
        queries.stop();
      }
    },
  },
];

// --- scenarios: datasources --------------------------------------------------------------------

const datasourceScenarios = [
  {
    name: 'add a datasource with Save & test: TestData answers ok',
    shot: 'datasource-testdata',
    async run({ page, base }) {
      await addDatasource(page, base, 'grafana-testdata-datasource', 'E2E TestData');
      await saveAndTest(page, 'ok');
    },
  },
  {
    name: 'add a datasource with Save & test: the real Prometheus answers ok',
    shot: 'datasource-prometheus',
    async run({ page, base, prometheus }) {
      await addDatasource(page, base, 'prometheus', 'E2E Prometheus');
      await page.fill(byTestId('datasource-url'), prometheus.url);
      await saveAndTest(page, 'ok');
    },
  },
  {
    name: 'add a datasource with Save & test: Prometheus on a closed port shows the error',
    shot: 'datasource-prometheus-down',
    async run({ page, base }) {
      await addDatasource(page, base, 'prometheus', 'E2E Prometheus down');
      await page.fill(byTestId('datasource-url'), 'http://127.0.0.1:9');
      await saveAndTest(page, 'error');
    },
  },
  {
    name: 'the datasource list shows the new datasources',
    shot: 'datasource-list',
    async run({ page, base }) {
      await page.goto(`${base}/connections/datasources`);
      const items = page.locator(byTestId('datasource-list-item'));
      await items.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no [data-testid="datasource-list-item"] on /connections/datasources'));
      const texts = await items.allTextContents();
      for (const name of ['E2E TestData', 'E2E Prometheus', 'E2E Prometheus down', 'Prometheus']) {
        if (!texts.some((t) => t.includes(name))) fail(`the list lacks "${name}": ${JSON.stringify(texts)}`);
      }
    },
  },
];

/** From the list page through "Add data source" and the type choice to the settings form, then renames it. */
async function addDatasource(page, base, type, name) {
  await page.goto(`${base}/connections/datasources`);
  await page.click(byTestId('datasource-add'));
  await page.click(`${byTestId('datasource-type')}[data-type="${type}"]`);
  await page
    .waitForURL((url) => url.pathname.startsWith('/connections/datasources/edit/'), { timeout: 10_000 })
    .catch(() => fail(`choosing ${type} did not open the settings page (still on ${page.url()})`));
  await page.fill(byTestId('datasource-name'), name);
}

/** Clicks Save & test and waits for the result box with the wanted `data-status`. */
async function saveAndTest(page, want) {
  await page.click(byTestId('datasource-save-test'));
  const result = page.locator(byTestId('datasource-test-result'));
  await result.waitFor({ state: 'visible', timeout: 15_000 }).catch(async () => {
    const errors = await page.locator('[role="alert"]').allTextContents();
    fail(`no [data-testid="datasource-test-result"] after Save & test (errors shown: ${JSON.stringify(errors)})`);
  });
  const status = await result.getAttribute('data-status');
  if (status !== want) fail(`Save & test gave data-status="${status}", wanted "${want}": ${await result.textContent()}`);
}

// --- scenarios: node-exporter-full against the real Prometheus ---------------------------------

/** Set by the import scenario: the imported dashboard's uid (the later scenarios view it). */
const imported = { uid: null };

const nodeExporterScenarios = [
  {
    name: 'import node-exporter-full through the import page',
    shot: 'node-exporter-full-import',
    async run({ page, base, pharos }) {
      imported.uid = importViaApi
        ? await importWithApi(pharos, fs.readFileSync(nodeExporterFullPath, 'utf8'))
        : await importThroughUi(page, base, nodeExporterFullPath);
    },
  },
  {
    name: 'node-exporter-full: every panel of every row drawn against Prometheus, none in error',
    shot: 'node-exporter-full',
    // ~125 panels over ~115 screens (row panels keep their saved gaps): about 25 s on a quiet machine.
    timeoutMs: 300_000,
    async run({ page, base, node, prometheus, report }) {
      if (!imported.uid) fail('node-exporter-full was not imported (the import scenario failed)');
      await page.goto(nodeExporterUrl(base, node, 'node', 'now-5m'));
      await waitForVisiblePanels(page);
      const opened = await expandAllRows(page);
      const { panels, stops, inPage } = await scrollThroughDashboard(page);
      // Every panel in the page must have been seen drawn at some stop of the scroll.
      const seenKeys = new Set(panels.map((p) => p.key));
      const missed = inPage.filter((p) => !seenKeys.has(p.key));
      if (missed.length) fail(`panels never seen drawn while scrolling: ${missed.map((p) => p.title).join(', ')}`);
      const expected = countPanels(JSON.parse(fs.readFileSync(nodeExporterFullPath, 'utf8')).panels);
      if (inPage.length !== expected) {
        fail(`${inPage.length} panels in the page after opening every row, the dashboard has ${expected}`);
      }
      const noData = panels.filter((p) => p.noData);
      const errors = panels.filter((p) => p.state === 'error' || p.error);
      const line =
        `${panels.length} panels drawn, ${errors.length} errors (${panels.length - noData.length} with data, ` +
        `${noData.length} "No data"; ${opened} rows opened, ${stops} screens)`;
      report(line);
      if (noData.length) report(`"No data" (no such series on this machine): ${noData.map((p) => p.heading).join('; ')}`);
      await assertNoDataIsMissingMetrics(noData, prometheus);
      // A "No data" panel is drawn: its query answered, this machine just has no such series
      // (no hardware sensors, systemd or RAID in a container). What must not happen is most of the
      // dashboard being empty, which would mean the variables or queries went wrong.
      if (noData.length > panels.length / 3) {
        fail(`${noData.length} of ${panels.length} panels say "No data": the job/instance variables or the queries are wrong`);
      }
    },
  },
  {
    name: 'time range picker and a variable: URL changes and panels refetch',
    shot: 'node-exporter-full-15m-node2',
    async run({ page, base, node, report }) {
      if (!imported.uid) fail('node-exporter-full was not imported (the import scenario failed)');
      const queries = recordQueries(page);
      try {
        await page.goto(nodeExporterUrl(base, node, 'node', 'now-5m'));
        const panels = await waitForVisiblePanels(page);
        if (!queries.length) fail('the dashboard drew its panels without a POST /api/ds/query');
        // Every visible panel of this dashboard queries, and every query uses $job and the range.
        const visible = panels.filter((p) => p.visible).length;

        // 1. The time picker: "Last 15 minutes".
        await page.click(byTestId('time-picker'));
        let changedAt = Date.now();
        await page.locator(byTestId('time-range-option'), { hasText: 'Last 15 minutes' }).click();
        await page
          .waitForURL((url) => url.searchParams.get('from') === 'now-15m' && url.searchParams.get('to') === 'now', { timeout: 5_000 })
          .catch(() => fail(`choosing "Last 15 minutes" did not put from=now-15m&to=now in the URL: ${page.url()}`));
        const afterRange = await refetches(page, queries, changedAt, visible, 'the time range changed in the picker');
        assertRefetched(afterRange, 15 * 60_000, 'the time range changed in the picker');
        report(`time range now-5m → now-15m (picker): ${afterRange.length} POST /api/ds/query for ${visible} visible panels`);

        // 2. The `job` variable in the variables bar: node → node2.
        const select = page.locator(`${byTestId('variable')}[data-variable="job"] select`);
        const options = await select.locator('option').allTextContents();
        if (!options.includes('node2')) fail(`the job variable offers ${JSON.stringify(options)}, not node2`);
        changedAt = Date.now();
        await select.selectOption('node2');
        await page
          .waitForURL((url) => url.searchParams.get('var-job') === 'node2', { timeout: 5_000 })
          .catch(() => fail(`choosing job node2 did not put var-job=node2 in the URL: ${page.url()}`));
        const afterVariable = await refetches(page, queries, changedAt, visible, 'the job variable changed');
        const withNode2 = afterVariable.filter((q) => q.body?.variables?.job === 'node2' || JSON.stringify(q.body).includes('"node2"'));
        if (withNode2.length < visible) {
          fail(`${withNode2.length} of the ${afterVariable.length} queries after the change carry job node2, for ${visible} visible panels: ${JSON.stringify(afterVariable[0].body).slice(0, 300)}`);
        }
        const url = new URL(page.url());
        if (url.searchParams.get('from') !== 'now-15m') fail(`changing the variable lost the time range: ${page.url()}`);
        report(`variable job node → node2 (variables bar): ${afterVariable.length} POST /api/ds/query, ${withNode2.length} with job node2, for ${visible} visible panels`);
      } finally {
        queries.stop();
      }
    },
  },
];

/** The node-exporter-full view with its variables set to the one node exporter, on `job`. */
function nodeExporterUrl(base, node, job, from) {
  const params = new URLSearchParams({
    from,
    to: 'now',
    'var-ds_prometheus': PROM_UID,
    'var-job': job,
    'var-nodename': node.nodename,
    'var-node': node.instance,
  });
  return `${base}/d/${imported.uid}?${params}`;
}

/**
 * A panel that says "No data" is fine only when this machine lacks what it shows: none of the
 * node_* metrics its queries name may exist in Prometheus for job "node". If one does, the empty
 * panel points at a bug (a variable, the interpolation or the frames), and the scenario fails.
 */
async function assertNoDataIsMissingMetrics(noData, prometheus) {
  const fixture = JSON.parse(fs.readFileSync(nodeExporterFullPath, 'utf8'));
  const byId = new Map();
  const walk = (panels) => panels.forEach((p) => (byId.set(String(p.id), p), walk(p.panels ?? [])));
  walk(fixture.panels);
  const suspicious = [];
  for (const p of noData) {
    const exprs = (byId.get(p.id)?.targets ?? []).map((t) => t.expr || '').join(' ');
    const names = [...new Set(exprs.match(/\bnode_[a-zA-Z0-9_]+/g) ?? [])];
    if (!names.length) continue;
    const found = await prometheus.query(`group by (__name__) ({__name__=~"${names.join('|')}", job="node"})`);
    if (found.length) suspicious.push(`"${p.heading}" (Prometheus has ${found.map((r) => r.metric.__name__).join(', ')})`);
  }
  if (suspicious.length) fail(`panels say "No data" although their metrics exist: ${suspicious.join('; ')}`);
}

/** Panels of a dashboard JSON, counting those inside collapsed rows and not counting row headers. */
function countPanels(panels) {
  return panels.reduce((n, p) => n + (p.type === 'row' ? countPanels(p.panels ?? []) : 1), 0);
}

/**
 * After a change, waits until at least `expected` queries have been sent since `since` (each
 * visible panel refetching once) and the visible panels are drawn again; returns those queries.
 * Waiting on the count first matters: right after the URL changes, the panels still show the old
 * answer as "done", so waiting for "done" alone could look before any refetch started.
 */
async function refetches(page, queries, since, expected, what) {
  const deadline = Date.now() + 10_000;
  while (queries.filter((q) => q.at >= since).length < expected) {
    if (Date.now() > deadline) {
      fail(`${queries.filter((q) => q.at >= since).length} POST /api/ds/query within 10 s after ${what}, for ${expected} visible panels`);
    }
    await page.waitForTimeout(50);
  }
  await waitForVisiblePanels(page);
  return queries.filter((q) => q.at >= since);
}

/** Fails unless `after` (the queries since a change) is non-empty and every one spans `spanMs`. */
function assertRefetched(after, spanMs, what) {
  if (!after.length) fail(`no POST /api/ds/query after ${what}`);
  const spans = after.map((q) => rangeOf(q.body)).filter(Boolean).map(([f, t]) => t - f);
  if (!spans.length) {
    fail(`the queries after ${what} carry no from/to: ${JSON.stringify(after[0].body).slice(0, 200)}`);
  }
  if (!spans.every((s) => Math.abs(s - spanMs) < 60_000)) {
    fail(`queries after ${what} span ${spans.map((s) => `${(s / 60_000).toFixed(1)} min`).join(', ')}, not ${spanMs / 60_000} min`);
  }
}

/**
 * The import page (`/dashboard/import`): upload the JSON file, keep its title and uid, point every
 * datasource choice at the Prometheus datasource, import; the page then opens the dashboard.
 * Returns the new dashboard's uid (from the URL).
 */
async function importThroughUi(page, base, file) {
  await page.goto(`${base}/dashboard/import`);
  const upload = page.locator(byTestId('import-file'));
  await upload
    .waitFor({ state: 'attached', timeout: 10_000 })
    .catch(() => fail(`no import page: [data-testid="import-file"] is not on ${base}/dashboard/import (PHAROS_E2E_IMPORT_VIA_API=1 imports through the API instead)`));
  // The upload, not typing into the textarea: playwright's fill() of 467 KB does not finish in
  // minutes. The upload puts the text in the textarea too, and loads it.
  await upload.setInputFiles(file);
  await importFormOrError(page, 'the upload');
  const pasted = await page.locator(byTestId('import-json')).inputValue();
  const text = fs.readFileSync(file, 'utf8');
  if (pasted !== text) fail(`the upload put ${pasted.length} characters in the JSON box, the file has ${text.length}`);
  // "Load" reads the box again: the paste path.
  await page.click(byTestId('import-load'));
  await importFormOrError(page, '"Load"');
  const title = await page.locator(byTestId('import-title')).inputValue();
  if (title !== 'Node Exporter Full') fail(`the import form's title is "${title}", not "Node Exporter Full"`);
  const uid = await page.locator(byTestId('import-uid')).inputValue();
  // One select per datasource choice: node-exporter-full's $ds_prometheus variable (it has no
  // __inputs; a dashboard exported "for sharing externally" would have one per input). Ours is
  // not the only Prometheus (the datasource scenarios add two), so choose it by uid.
  for (const input of await page.locator(`select${byTestId('import-input')}`).all()) {
    await input.selectOption(PROM_UID);
  }
  const error = page.locator(byTestId('import-error'));
  await page.click(byTestId('import-submit'));
  await Promise.race([
    page.waitForURL((url) => url.pathname.startsWith('/d/'), { timeout: 15_000 }),
    error.waitFor({ state: 'visible', timeout: 15_000 }),
  ]).catch(() => fail(`"Import" neither opened the dashboard nor showed an error (still on ${page.url()})`));
  if (await error.isVisible()) fail(`importing failed: ${(await error.textContent())?.trim()}`);
  const opened = new URL(page.url()).pathname.split('/')[2];
  if (uid && opened !== uid) fail(`the import opened /d/${opened}, the form said uid ${uid}`);
  await waitForVisiblePanels(page);
  return opened;
}

/** Waits for the import options form (or fails with the page's error) after `what`. */
async function importFormOrError(page, what) {
  const submit = page.locator(byTestId('import-submit'));
  const error = page.locator(byTestId('import-error'));
  await Promise.race([submit.waitFor({ state: 'visible', timeout: 10_000 }), error.waitFor({ state: 'visible', timeout: 10_000 })]).catch(() =>
    fail(`after ${what}, neither the import options ([data-testid="import-submit"]) nor an error appeared`),
  );
  if (await error.isVisible()) fail(`after ${what}, the import page says: ${(await error.textContent())?.trim()}`);
}

/** The fallback (PHAROS_E2E_IMPORT_VIA_API=1): POST /api/dashboards/db with the fixture unchanged. */
async function importWithApi(pharos, text) {
  const dashboard = JSON.parse(text);
  delete dashboard.id;
  const saved = await pharos.api('POST', '/api/dashboards/db', { dashboard, overwrite: true, folderUid: '' });
  return saved.uid;
}

// --- scenarios: editing (to come) --------------------------------------------------------------

// --- scenarios: editing -------------------------------------------------------------------------

/** The dashboard the editing scenarios create (through the API) and change (through the UI). */
const EDIT_UID = 'e2e-edit';

/** Creates (or replaces) a one-panel dashboard querying `up` from the run's Prometheus. */
async function createEditDashboard(pharos) {
  return pharos.api('POST', '/api/dashboards/db', {
    overwrite: true,
    message: 'created by the e2e run',
    dashboard: {
      uid: EDIT_UID,
      title: 'E2E edit',
      time: { from: 'now-15m', to: 'now' },
      panels: [
        {
          id: 1,
          type: 'timeseries',
          title: 'Targets up',
          gridPos: { x: 0, y: 0, w: 12, h: 8 },
          datasource: { type: 'prometheus', uid: PROM_UID },
          targets: [{ refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: PROM_UID } }],
        },
      ],
    },
  });
}

/** Opens the dashboard, enters edit mode, and opens panel 1 in the panel editor through its menu. */
async function openPanelEditor(page, base) {
  await page.goto(`${base}/d/${EDIT_UID}`);
  await waitForVisiblePanels(page);
  await page.click(byTestId('dashboard-edit'));
  const panel = page.locator(`${byTestId('panel')}[data-panel-id="1"]`);
  await panel.hover();
  await panel.locator(byTestId('panel-menu')).click();
  await page.click(byTestId('panel-menu-edit'));
  await page.locator(byTestId('panel-editor')).waitFor({ state: 'visible' });
  if (new URL(page.url()).searchParams.get('editPanel') !== '1') fail(`the panel editor's URL lacks editPanel=1: ${page.url()}`);
}

/** Opens the save dialog (ctrl+s, as a user would), writes the message and saves. */
async function saveWithMessage(page, message) {
  await page.keyboard.press('Control+s');
  await page.locator(byTestId('save-dialog')).waitFor({ state: 'visible' });
  await page.fill(byTestId('save-message'), message);
  await page.click(byTestId('save-dashboard-confirm'));
}

const editScenarios = [
  {
    name: 'edit a panel: PromQL typed with completion from Prometheus, title changed, saved with a message',
    shot: 'edit-panel-saved',
    async run({ page, base, pharos, report }) {
      await createEditDashboard(pharos);
      await openPanelEditor(page, base);
      // Type into CodeMirror: completion offers metric names fetched through the datasource proxy.
      const editor = page.locator(`${byTestId('promql-input')} .cm-content`);
      await editor.click();
      await page.keyboard.press('Control+a');
      await page.keyboard.type('node_load');
      const completion = page.locator('.cm-tooltip-autocomplete');
      await completion.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no completion list after typing "node_load"'));
      const offered = await completion.locator('li').allTextContents();
      if (!offered.some((t) => t.includes('node_load1'))) fail(`completion lacks node_load1: ${JSON.stringify(offered.slice(0, 10))}`);
      await page.keyboard.press('Escape');
      await page.keyboard.type('1 * 2');
      const queries = recordQueries(page);
      try {
        await page.keyboard.press('Shift+Enter');
        const sentExpressions = () => queries.flatMap((q) => q.body?.queries ?? []).map((q) => q.expr);
        for (let waited = 0; !sentExpressions().includes('node_load1 * 2'); waited += 100) {
          if (waited > 10_000) fail(`the preview did not query the new expression; sent ${JSON.stringify(sentExpressions())}`);
          await page.waitForTimeout(100);
        }
        await page
          .waitForFunction(() => document.querySelector('[data-testid="panel-editor-preview"] [data-panel-state="done"] [data-drawn-at]'), null, { timeout: 15_000 })
          .catch(() => fail('the preview did not draw the new query'));
      } finally {
        queries.stop();
      }
      await page.fill(byTestId('option-title'), 'Load times two');
      await page.locator(byTestId('option-title')).blur();
      await page.click(byTestId('panel-editor-back'));
      if (new URL(page.url()).searchParams.has('editPanel')) fail(`Back left editPanel in the URL: ${page.url()}`);
      if ((await page.locator(byTestId('dashboard')).getAttribute('data-dirty')) !== 'true') fail('the dashboard is not marked changed after editing the panel');
      await saveWithMessage(page, 'load panel from the e2e run');
      await page.locator(byTestId('save-dialog')).waitFor({ state: 'detached', timeout: 10_000 }).catch(() => fail('the save dialog stayed open'));
      const saved = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      const panel = saved.dashboard.panels.find((p) => p.id === 1);
      if (panel?.title !== 'Load times two' || panel?.targets?.[0]?.expr !== 'node_load1 * 2') {
        fail(`the saved panel is not the edited one: ${JSON.stringify({ title: panel?.title, expr: panel?.targets?.[0]?.expr })}`);
      }
      const versions = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}/versions`);
      const latest = versions.versions?.[0];
      if (latest?.message !== 'load panel from the e2e run') fail(`the latest version's message is ${JSON.stringify(latest?.message)}`);
      if ((await page.locator(byTestId('dashboard')).getAttribute('data-dirty')) !== 'false') fail('the dashboard is still marked changed after saving');
      await waitForVisiblePanels(page);
      report(`saved version ${saved.dashboard.version}: title "${panel.title}", expr "${panel.targets[0].expr}", message "${latest.message}"`);
    },
  },
  {
    name: 'the conflict dialog when another client saved the same dashboard first: overwrite',
    shot: 'edit-conflict',
    async run({ page, base, pharos, report }) {
      await createEditDashboard(pharos);
      await page.goto(`${base}/d/${EDIT_UID}`);
      await waitForVisiblePanels(page);
      await page.click(byTestId('dashboard-edit'));
      await page.click(byTestId('dashboard-settings-button'));
      await page.fill(byTestId('settings-title'), 'E2E edit (from the browser)');
      // Meanwhile another client saves the same dashboard through the API, from the same version.
      const current = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      const other = await pharos.api('POST', '/api/dashboards/db', { dashboard: { ...current.dashboard, title: 'E2E edit (from the API)' }, message: 'the other client' });
      await saveWithMessage(page, 'from the browser');
      const conflict = page.locator(byTestId('save-conflict'));
      await conflict.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no conflict dialog after saving over a newer version'));
      if ((await conflict.getAttribute('data-conflict')) !== 'version-mismatch') fail(`conflict kind ${await conflict.getAttribute('data-conflict')}`);
      await page.screenshot({ path: path.join(shotsDir, 'edit-conflict-dialog.png') });
      await page.click(byTestId('save-overwrite'));
      await conflict.waitFor({ state: 'detached', timeout: 10_000 }).catch(() => fail('the conflict dialog stayed open after Overwrite'));
      const saved = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      if (saved.dashboard.title !== 'E2E edit (from the browser)') fail(`after Overwrite the title is ${JSON.stringify(saved.dashboard.title)}`);
      if (saved.dashboard.version <= other.version) fail(`after Overwrite the version is ${saved.dashboard.version}, the other client's ${other.version}`);
      report(`other client saved version ${other.version}; Overwrite saved version ${saved.dashboard.version}`);
    },
  },
  {
    name: 'the conflict dialog: reload drops local changes and shows the other client\'s version',
    shot: 'edit-conflict-reload',
    async run({ page, base, pharos }) {
      await createEditDashboard(pharos);
      await page.goto(`${base}/d/${EDIT_UID}`);
      await waitForVisiblePanels(page);
      await page.click(byTestId('dashboard-edit'));
      await page.click(byTestId('dashboard-settings-button'));
      await page.fill(byTestId('settings-title'), 'lost on reload');
      const current = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      await pharos.api('POST', '/api/dashboards/db', { dashboard: { ...current.dashboard, title: 'kept from the API' } });
      await saveWithMessage(page, 'from the browser');
      await page.locator(byTestId('save-conflict')).waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no conflict dialog'));
      await page.click(byTestId('save-reload'));
      await page.locator(byTestId('save-conflict')).waitFor({ state: 'detached', timeout: 10_000 });
      const title = await page.locator(byTestId('settings-title')).inputValue();
      if (title !== 'kept from the API') fail(`after Reload the title field shows ${JSON.stringify(title)}`);
      const saved = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      if (saved.dashboard.title !== 'kept from the API') fail(`Reload changed the saved dashboard: ${JSON.stringify(saved.dashboard.title)}`);
    },
  },
  {
    name: 'add a row, move a panel by dragging it, save: the row and the grid positions are saved',
    shot: 'edit-layout',
    async run({ page, base, pharos }) {
      await createEditDashboard(pharos);
      await page.goto(`${base}/d/${EDIT_UID}`);
      await waitForVisiblePanels(page);
      await page.click(byTestId('dashboard-edit'));
      await page.click(byTestId('dashboard-add'));
      await page.click(byTestId('add-row'));
      // As a user would, wait until the row is drawn and the panel has moved down under it (the
      // grid takes a render to place a new item and animates the move).
      await page.locator(byTestId('row')).waitFor({ state: 'visible' });
      await page.waitForTimeout(400);
      // Drag panel 1 by its header to the right half of the grid.
      const header = page.locator(`${byTestId('panel')}[data-panel-id="1"] .panel-header`);
      const box = await header.boundingBox();
      if (!box) fail('panel 1 has no header to drag');
      await page.mouse.move(box.x + 40, box.y + 10);
      await page.mouse.down();
      await page.mouse.move(box.x + 40 + box.width, box.y + 10, { steps: 15 });
      await page.mouse.up();
      await saveWithMessage(page, 'layout');
      await page.locator(byTestId('save-dialog')).waitFor({ state: 'detached', timeout: 10_000 }).catch(() => fail('the save dialog stayed open'));
      const saved = await pharos.api('GET', `/api/dashboards/uid/${EDIT_UID}`);
      const [first, second] = saved.dashboard.panels;
      if (first?.type !== 'row') fail(`the first saved panel is not the new row: ${JSON.stringify(first)}`);
      if (second?.id !== 1 || second.gridPos.x !== 12 || second.gridPos.y !== 1) fail(`panel 1 was saved at ${JSON.stringify(second?.gridPos)}, wanted x 12 under the row`);
    },
  },
];

// --- scenarios: folders, users, service accounts, cluster, versions, inspect -------------------

/** Names the admin scenarios create: unique per run, so a rerun against a kept database still works. */
const runTag = Date.now().toString(36);

/**
 * Waits for a locator to be visible, or fails with `message`: a string, or an async function that
 * reads the page's error only then (reading an element that is not there waits for it).
 */
async function visibleOrFail(locator, message, timeout = 10_000) {
  await locator.waitFor({ state: 'visible', timeout }).catch(async () => fail(typeof message === 'function' ? await message() : message));
}

/** The text of `selector` if it is in the page now, else `absent` (without waiting for it). */
async function textIfShown(page, selector, absent = 'none shown') {
  const locator = page.locator(selector).first();
  return (await locator.count()) ? ((await locator.textContent()) || '').trim() : absent;
}

/** Polls `check()` (async, truthy when done) every 100 ms for up to `timeoutMs`; fails with `message()`. */
async function eventually(check, message, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) fail(await message());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The dashboard whose history the version scenario compares and restores. */
const VERSIONS_UID = 'e2e-versions';

const adminScenarios = [
  {
    name: 'profile: the dark theme, and a password change that takes effect at once',
    shot: 'profile',
    async run({ page, base, browser, pharos, report }) {
      // The theme, on the admin's own page (kept in this browser).
      await page.goto(`${base}/profile`);
      const dark = page.locator(byTestId('profile-dark-theme'));
      const before = await page.evaluate(() => document.documentElement.dataset.theme ?? 'light');
      await dark.click();
      const after = await page.evaluate(() => document.documentElement.dataset.theme ?? 'light');
      if (after === before) fail(`toggling the dark theme left data-theme at ${before}`);
      await page.reload();
      if ((await page.evaluate(() => document.documentElement.dataset.theme ?? 'light')) !== after) fail('the theme did not survive a reload');
      await dark.click();
      // The password, as a user of its own (the run's other scenarios need admin/admin).
      const login = `e2e-profile-${runTag}`;
      await pharos.api('POST', '/api/admin/users', { login, email: `${login}@example.com`, password: 'first-password' });
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const problems = recordProblems(context);
      try {
        const userPage = await context.newPage();
        await userPage.goto(`${base}/login`);
        await userPage.fill(byTestId('login-user'), login);
        await userPage.fill(byTestId('login-password'), 'first-password');
        await userPage.click(byTestId('login-submit'));
        await userPage.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 }).catch(() => fail(`${login} could not sign in`));
        await userPage.goto(`${base}/profile`);
        await userPage.fill(byTestId('profile-old-password'), 'first-password');
        await userPage.fill(byTestId('profile-new-password'), 'second-password');
        await userPage.fill(byTestId('profile-confirm-password'), 'second-password');
        await userPage.click(byTestId('profile-change-password'));
        await userPage.locator('.form-ok').waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no confirmation after changing the password'));
      } finally {
        await context.close();
      }
      if (problems.length) fail(`console errors as ${login}: ${problems.join('; ')}`);
      const basic = (password) => ({ Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` });
      const oldAnswer = (await fetch(`${base}/api/user`, { headers: basic('first-password') })).status;
      const newAnswer = (await fetch(`${base}/api/user`, { headers: basic('second-password') })).status;
      if (oldAnswer !== 401 || newAnswer !== 200) fail(`after the change the old password answers ${oldAnswer}, the new one ${newAnswer}`);
      report(`theme ${before} → ${after} (kept over a reload); ${login}'s password changed: old 401, new 200`);
    },
  },
  {
    name: 'new folder, then a new dashboard in it, from the browse page\'s New menu',
    shot: 'new-folder-dashboard',
    async run({ page, base, pharos, report }) {
      const folderTitle = `E2E folder ${runTag}`;
      await page.goto(`${base}/dashboards`);
      await page.click(byTestId('browse-new'));
      await page.click(byTestId('new-folder-link'));
      await visibleOrFail(page.locator(byTestId('new-folder-dialog')), 'the New folder item opened no [data-testid="new-folder-dialog"]');
      await page.fill(byTestId('folder-title-input'), folderTitle);
      await page.click(byTestId('folder-create'));
      await page
        .waitForURL((url) => url.pathname.startsWith('/dashboards/f/'), { timeout: 10_000 })
        .catch(async () => {
          fail(`creating the folder did not open its page (still on ${page.url()}; error: ${await textIfShown(page, byTestId('folder-error'))})`);
        });
      const folderUid = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]);
      await eventually(
        async () => (await textIfShown(page, byTestId('folder-view-title'), null)) === folderTitle,
        async () => `the folder page's title is ${JSON.stringify(await textIfShown(page, byTestId('folder-view-title'), null))}, not "${folderTitle}"`,
      );

      const dashboardTitle = `E2E dashboard ${runTag}`;
      await page.click(byTestId('browse-new'));
      await page.click(byTestId('new-dashboard-link'));
      await visibleOrFail(page.locator(byTestId('new-dashboard-title')), `the New dashboard item opened no form (on ${page.url()})`);
      await page.fill(byTestId('new-dashboard-title'), dashboardTitle);
      // selectOption waits until the folder list has loaded the new folder's option.
      await page.locator(byTestId('new-dashboard-folder')).selectOption(folderUid);
      await page.click(byTestId('new-dashboard-create'));
      await page
        .waitForURL((url) => url.pathname.startsWith('/d/'), { timeout: 10_000 })
        .catch(async () => {
          fail(`creating the dashboard did not open it (still on ${page.url()}; error: ${await textIfShown(page, byTestId('new-dashboard-error'))})`);
        });
      const uid = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
      const saved = await pharos.api('GET', `/api/dashboards/uid/${encodeURIComponent(uid)}`);
      if (saved.dashboard.title !== dashboardTitle) fail(`the API's dashboard ${uid} is titled ${JSON.stringify(saved.dashboard.title)}`);
      if (saved.meta.folderUid !== folderUid) {
        fail(`dashboard ${uid} is in folder ${JSON.stringify(saved.meta.folderUid)}, not the new folder ${folderUid}`);
      }
      report(`folder "${folderTitle}" (uid ${folderUid}); dashboard "${dashboardTitle}" (uid ${uid}) in it, opened at ${new URL(page.url()).pathname}`);
    },
  },
  {
    name: 'users: create one, make it an Editor; signed in as it, /dashboards opens and /admin/users says 403',
    shot: 'admin-users',
    async run({ page, browser, base, pharos, report }) {
      const login = `e2e-user-${runTag}`;
      const password = `pw-${runTag}-secret`;
      await page.goto(`${base}/admin/users`);
      await page.click(byTestId('user-create-open'));
      await page.fill(byTestId('user-create-name'), 'E2E User');
      await page.fill(byTestId('user-create-email'), `${login}@example.com`);
      await page.fill(byTestId('user-create-login'), login);
      await page.fill(byTestId('user-create-password'), password);
      await page.click(byTestId('user-create-submit'));
      await page
        .locator(byTestId('user-create-dialog'))
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(async () => fail(`the new-user dialog stayed open: ${await textIfShown(page, byTestId('user-create-error'))}`));
      const row = page.locator(`${byTestId('user-row')}[data-login="${login}"]`);
      await visibleOrFail(row, `no [data-testid="user-row"][data-login="${login}"] after creating the user`);
      const userId = Number(await row.getAttribute('data-user-id'));
      const role = row.locator(byTestId('user-role'));
      if ((await role.inputValue()) !== 'Viewer') fail(`a new user's role shows ${JSON.stringify(await role.inputValue())}, not Viewer`);
      await role.selectOption('Editor');
      const orgRole = async () => (await pharos.api('GET', '/api/org/users')).find((u) => u.userId === userId)?.role;
      await eventually(
        async () => (await orgRole()) === 'Editor',
        async () => `GET /api/org/users gives user ${userId} the role ${JSON.stringify(await orgRole())} after choosing Editor`,
      );
      if (await row.locator(byTestId('user-row-error')).isVisible()) fail(`the row shows an error: ${await row.locator(byTestId('user-row-error')).textContent()}`);
      report(`created ${login} (id ${userId}); role Viewer → Editor, the API agrees`);

      // The new user in a browser context of its own (own cookies): the admin's page stays signed in.
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      // A non-admin on /admin/users: the user search (server admins only) and the org's member list
      // (org admins only) answer 403 by design; the page shows the first's message.
      const problems = recordProblems(context, {
        alsoExpected: (status, pathname) => status === 403 && (pathname === '/api/users/search' || pathname === '/api/org/users'),
      });
      try {
        const userPage = await context.newPage();
        userPage.setDefaultTimeout(20_000);
        await userPage.goto(`${base}/login`);
        await userPage.fill(byTestId('login-user'), login);
        await userPage.fill(byTestId('login-password'), password);
        await userPage.click(byTestId('login-submit'));
        await userPage
          .waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 })
          .catch(() => fail(`${login} is still on ${userPage.url()} after logging in`));
        await userPage.goto(`${base}/dashboards`);
        await visibleOrFail(
          userPage.locator(byTestId('browse-item'), { hasText: 'Pharos demo' }).first(),
          `signed in as ${login}, /dashboards does not list "Pharos demo"`,
        );
        await userPage.goto(`${base}/admin/users`);
        const error = userPage.locator(byTestId('admin-error'));
        await visibleOrFail(error, `signed in as ${login}, /admin/users shows no [data-testid="admin-error"]`);
        const text = ((await error.textContent()) || '').trim();
        if (!/permission denied|server admin/i.test(text)) fail(`/admin/users as ${login} says ${JSON.stringify(text)}, not the server's 403 message`);
        if (await userPage.locator(byTestId('user-row')).count()) fail(`/admin/users lists users to ${login}, an Editor`);
        await userPage.screenshot({ path: path.join(shotsDir, 'admin-users-as-editor.png') });
        report(`as ${login}: /dashboards lists "Pharos demo"; /admin/users says "${text}"`);
      } finally {
        await context.close();
      }
      if (problems.length) fail(`console errors as ${login}: ${problems.join('; ')}`);
    },
  },
  {
    name: 'service accounts: create one, add a token, the key shown once authenticates the API',
    shot: 'admin-serviceaccounts',
    async run({ page, base, report }) {
      const name = `e2e-sa-${runTag}`;
      await page.goto(`${base}/org/serviceaccounts`);
      await page.fill(byTestId('sa-create-name'), name);
      await page.locator(byTestId('sa-create-role')).selectOption('Viewer');
      await page.click(byTestId('sa-create-submit'));
      const row = page.locator(`${byTestId('sa-row')}[data-name="${name}"]`);
      await visibleOrFail(row, async () => `no [data-testid="sa-row"][data-name="${name}"] after creating it (error: ${await textIfShown(page, byTestId('sa-create-error'))})`);
      if ((await row.locator(byTestId('sa-role')).inputValue()) !== 'Viewer') fail(`the new account's role shows ${await row.locator(byTestId('sa-role')).inputValue()}`);
      await row.locator(byTestId('sa-token-add')).click();
      await page.fill(byTestId('sa-token-name'), `${name}-token`);
      await page.click(byTestId('sa-token-create'));
      const keyBox = page.locator(byTestId('sa-token-key'));
      await visibleOrFail(keyBox, 'no [data-testid="sa-token-key"] after creating the token');
      const key = await keyBox.inputValue();
      if (!key) fail('the token dialog shows an empty key');
      const response = await fetch(`${base}/api/search`, { headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) fail(`GET /api/search with the new key answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      const found = await response.json();
      await page.click(byTestId('sa-token-close'));
      await page.locator(byTestId('sa-token-dialog')).waitFor({ state: 'detached', timeout: 5_000 }).catch(() => fail('the token dialog stayed open after Close'));
      // Shown once: the list has the token by name, never its key.
      await eventually(
        async () => /\b1 token\b/.test((await row.locator(byTestId('sa-tokens')).textContent()) || ''),
        async () => `the account's token count says ${JSON.stringify(await row.locator(byTestId('sa-tokens')).textContent())} after adding one`,
      );
      if ((await page.content()).includes(key)) fail('the key is still in the page after closing its dialog');
      report(`account ${name} (Viewer), token key ${key.slice(0, 8)}…: GET /api/search with it answered 200 (${found.length} results)`);
    },
  },
  {
    name: 'cluster page: this replica from GET /api/cluster, healthy, holding the maintenance lease',
    shot: 'admin-cluster',
    async run({ page, base, report }) {
      await page.goto(`${base}/admin/cluster`);
      const members = page.locator(byTestId('cluster-members'));
      await visibleOrFail(members, async () => `no [data-testid="cluster-members"] on /admin/cluster (error: ${await textIfShown(page, byTestId('admin-error'))})`);
      const source = await members.getAttribute('data-source');
      if (source !== 'cluster') fail(`the cluster page shows data from ${source}, not GET /api/cluster`);
      const lease = page.locator(`${byTestId('cluster-lease')}[data-name="maintenance"]`);
      await visibleOrFail(lease, 'no [data-testid="cluster-lease"][data-name="maintenance"] on /admin/cluster');
      const healthy = page.locator(`${byTestId('cluster-member')}[data-healthy="true"]`);
      await visibleOrFail(healthy.first(), 'no [data-testid="cluster-member"][data-healthy="true"] on /admin/cluster');
      const all = await page.locator(byTestId('cluster-member')).count();
      report(`source ${await members.getAttribute('data-source')}: ${await healthy.count()} healthy of ${all} member(s), this one ${await healthy.first().getAttribute('data-member-id')}`);
    },
  },
  {
    name: 'version history: compare two versions, restore the older one',
    shot: 'dashboard-versions',
    async run({ page, base, pharos, report }) {
      const oldTitle = `E2E versions (old ${runTag})`;
      const newTitle = `E2E versions (new ${runTag})`;
      const first = await pharos.api('POST', '/api/dashboards/db', { overwrite: true, message: 'first', dashboard: { uid: VERSIONS_UID, title: oldTitle, panels: [] } });
      const current = await pharos.api('GET', `/api/dashboards/uid/${VERSIONS_UID}`);
      const second = await pharos.api('POST', '/api/dashboards/db', { message: 'renamed', dashboard: { ...current.dashboard, title: newTitle } });
      await page.goto(`${base}/d/${VERSIONS_UID}?editview=versions`);
      const older = page.locator(`${byTestId('version-row')}[data-version="${first.version}"]`);
      const newer = page.locator(`${byTestId('version-row')}[data-version="${second.version}"]`);
      await visibleOrFail(newer, `no [data-testid="version-row"][data-version="${second.version}"] on ?editview=versions`);
      await older.locator(byTestId('version-select')).check();
      await newer.locator(byTestId('version-select')).check();
      await page.click(byTestId('version-compare'));
      const diff = page.locator(byTestId('version-diff'));
      await visibleOrFail(diff, `Compare showed no [data-testid="version-diff"] for versions ${first.version} and ${second.version}`);
      const diffText = (await diff.textContent()) || '';
      for (const title of [oldTitle, newTitle]) {
        if (!diffText.includes(title)) fail(`the diff of versions ${first.version} and ${second.version} lacks "${title}": ${diffText.slice(0, 300)}`);
      }
      await page.screenshot({ path: path.join(shotsDir, 'dashboard-versions-diff.png') });
      await page.click(byTestId('version-diff-back'));
      await older.locator(byTestId('version-restore')).click();
      await visibleOrFail(page.locator(byTestId('version-restore-dialog')), 'Restore opened no [data-testid="version-restore-dialog"]');
      await page.click(byTestId('version-restore-confirm'));
      await page
        .locator(byTestId('version-restore-dialog'))
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(async () => fail(`the restore dialog stayed open: ${await textIfShown(page, `${byTestId('version-restore-dialog')} [role="alert"]`)}`));
      const restored = await pharos.api('GET', `/api/dashboards/uid/${VERSIONS_UID}`);
      if (restored.dashboard.title !== oldTitle) fail(`after restoring version ${first.version} the title is ${JSON.stringify(restored.dashboard.title)}`);
      if (restored.dashboard.version <= second.version) fail(`restoring saved version ${restored.dashboard.version}, not one after ${second.version}`);
      // The list reloads with the restore as its latest entry.
      await visibleOrFail(page.locator(`${byTestId('version-row')}[data-version="${restored.dashboard.version}"]`), `the version list lacks the restore's version ${restored.dashboard.version}`);
      report(`versions ${first.version} ("${oldTitle}") and ${second.version} compared; restoring ${first.version} saved version ${restored.dashboard.version}`);
    },
  },
  {
    name: 'inspect a demo time series: its data table, then the query it sent',
    shot: 'inspect',
    async run({ page, base, report }) {
      await page.goto(`${base}/d/pharos-demo`);
      const panels = await waitForVisiblePanels(page);
      const target = panels.find((p) => p.visible && p.type === 'timeseries' && !p.noData);
      if (!target) fail(`the demo dashboard shows no time series with data (${panels.map((p) => p.title).join(', ')})`);
      const panel = page.locator(`${byTestId('panel')}[data-panel-id="${target.id}"]`).first();
      await panel.hover();
      await panel.locator(byTestId('panel-menu')).click();
      await page.hover(byTestId('panel-menu-inspect'));
      await page.click(byTestId('panel-menu-inspect-data'));
      await visibleOrFail(page.locator(byTestId('inspect-drawer')), 'Inspect → Data opened no [data-testid="inspect-drawer"]');
      const table = page.locator(byTestId('inspect-data-table'));
      await visibleOrFail(table, `the inspect drawer of ${target.title} shows no [data-testid="inspect-data-table"]`);
      const rows = await table.locator('tbody tr').count();
      if (!rows) fail(`the data table of ${target.title} has no rows`);
      const headers = await table.locator('th').allTextContents();
      await page.click(`${byTestId('inspect-tab')}[data-tab="query"]`);
      const request = page.locator(byTestId('inspect-request'));
      await visibleOrFail(request, 'the Query tab shows no [data-testid="inspect-request"]');
      const requestText = (await request.textContent()) || '';
      if (!requestText.includes('"queries"')) fail(`the Query tab's request lacks "queries": ${requestText.slice(0, 200)}`);
      await page.screenshot({ path: path.join(shotsDir, 'inspect-query.png') });
      await page.click(byTestId('inspect-close'));
      await page.locator(byTestId('inspect-drawer')).waitFor({ state: 'detached', timeout: 5_000 }).catch(() => fail('the inspect drawer stayed open after Close'));
      if (new URL(page.url()).searchParams.has('inspect')) fail(`closing the drawer left inspect in the URL: ${page.url()}`);
      report(`${target.title}: ${rows} data rows (columns ${headers.join(', ')}); the request names ${(requestText.match(/"refId"/g) || []).length} query(ies)`);
    },
  },
];

const scenarios = [
  ...basicScenarios,
  ...datasourceScenarios,
  ...nodeExporterScenarios,
  ...editScenarios,
  ...adminScenarios,
  ...alertingRuleScenarios,
  ...alertingNotificationScenarios,
];

// --- the run ----------------------------------------------------------------------------------

/** Starts the node exporter and Prometheus, waits for node samples, and names this machine's node. */
async function startPrometheusStack(workDir) {
  const exporter = await startNodeExporter(workDir);
  const prometheus = await startPrometheus(
    workDir,
    NODE_JOBS.map((job) => ({ job, addresses: [exporter.address] })),
    1000,
  );
  await waitForSamples(prometheus, 'node_cpu_seconds_total', NODE_JOBS);
  const uname = await prometheus.query('node_uname_info{job="node"}');
  if (!uname.length) throw new Error('Prometheus has no node_uname_info{job="node"}: the node exporter is not being scraped');
  const node = { nodename: uname[0].metric.nodename, instance: uname[0].metric.instance };
  return { exporter, prometheus, node };
}

async function main() {
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-e2e-'));
  // Interrupted (Ctrl-C) before the end: the children are killed (processes.mjs), then this goes.
  const removeOnInterrupt = () => fs.rmSync(workDir, { recursive: true, force: true });
  process.once('exit', removeOnInterrupt);
  fs.mkdirSync(shotsDir, { recursive: true });
  console.log(`e2e: server ${pharosBin}, browser ${chromiumBin}`);
  if (process.env.PHAROS_SERVER_WEB_DIR) console.log(`e2e: web UI from ${process.env.PHAROS_SERVER_WEB_DIR}`);
  console.log(`e2e: screenshots in ${shotsDir}`);

  let pharos;
  let stack;
  let browser;
  let passed = 0;
  let failed = 0;
  let keepWorkDir = false;
  try {
    if (!fs.existsSync(chromiumBin)) {
      throw new Error(`${chromiumBin} does not exist: install Debian's chromium (scripts/install-deps) or set CHROMIUM`);
    }
    pharos = await startPharos({ bin: pharosBin, dir: workDir });
    console.log(`e2e: pharos at ${pharos.url} (log ${pharos.logPath})`);
    const homeText = await (await fetch(`${pharos.url}/`)).text();
    if (homeText.includes('scripts/build-web')) {
      throw new Error('the server has no web UI to test (it answers the "not built" page): run scripts/build-web first');
    }
    stack = await startPrometheusStack(workDir);
    console.log(
      `e2e: node exporter at ${stack.exporter.address}, prometheus at ${stack.prometheus.url} ` +
        `(node ${stack.node.nodename}, instance ${stack.node.instance})`,
    );
    await pharos.api('POST', '/api/datasources', {
      name: 'Prometheus',
      uid: PROM_UID,
      type: 'prometheus',
      access: 'proxy',
      url: stack.prometheus.url,
      jsonData: { timeInterval: '1s' },
    });

    browser = await chromium.launch({
      executablePath: chromiumBin,
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_ARGS,
    });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const problems = recordProblems(context);
    let page = await context.newPage();
    page.setDefaultTimeout(20_000);

    const chosen = scenarios.filter((s) => s.always || s.name.includes(only));
    for (const [i, scenario] of chosen.entries()) {
      const t0 = Date.now();
      const seen = problems.length;
      const notes = [];
      let error = null;
      const limitMs = scenario.timeoutMs ?? SCENARIO_TIMEOUT_MS;
      let timer;
      try {
        await Promise.race([
          scenario.run({
            page,
            browser,
            base: pharos.url,
            pharos,
            prometheus: stack.prometheus,
            node: stack.node,
            report: (line) => notes.push(line),
          }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new ScenarioError(`did not finish within ${limitMs / 1000} s`)), limitMs);
          }),
        ]);
      } catch (e) {
        error = e instanceof ScenarioError ? e.message : String(e?.stack || e);
      } finally {
        clearTimeout(timer);
      }
      await settlePaint(page);
      const shot = path.join(shotsDir, `${String(i + 1).padStart(2, '0')}-${scenario.shot}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch((e) => {
        console.log(`    (screenshot failed: ${e.message})`);
      });
      const newProblems = problems.slice(seen);
      if (newProblems.length && !error) {
        error = `${newProblems.length} console error(s)/exception(s) in the browser`;
      }
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (error) {
        failed += 1;
        keepWorkDir = true;
        console.log(`FAIL ${scenario.name} (${secs} s): ${error}`);
      } else {
        passed += 1;
        console.log(`ok   ${scenario.name} (${secs} s)`);
      }
      for (const note of notes) console.log(`       ${note}`);
      for (const p of newProblems) console.log(`       ${p}`);
      console.log(`       screenshot: ${shot}`);
      if (error?.startsWith('did not finish')) {
        // Whatever hung still holds the page: the next scenario gets a new one (same session).
        await page.close().catch(() => {});
        page = await context.newPage();
        page.setDefaultTimeout(20_000);
      }
    }
    await context.close();
  } catch (e) {
    failed += 1;
    keepWorkDir = true;
    console.log(`FAIL e2e set-up: ${e.message}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (pharos) await pharos.stop().catch(() => {});
    if (stack) {
      await stack.prometheus.process.stop().catch(() => {});
      await stack.exporter.process.stop().catch(() => {});
    }
  }
  process.off('exit', removeOnInterrupt);
  if (keepWorkDir) {
    console.log(`e2e: server log and database kept in ${workDir}`);
    const logPath = path.join(workDir, 'pharos.log');
    if (fs.existsSync(logPath)) {
      console.log('e2e: last lines of the server log:');
      console.log(tail(fs.readFileSync(logPath, 'utf8')));
    }
  } else {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  console.log(`e2e: screenshots in ${shotsDir}`);
  console.log(
    `e2e (chromium): ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  process.exitCode = failed ? 1 : 0;
}

await main();

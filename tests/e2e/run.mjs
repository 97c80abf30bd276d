#!/usr/bin/env node
// End-to-end tests of the web UI in a real browser: Debian's Chromium driven by playwright-core.
//
//     cd tests/e2e && npm ci && node run.mjs            (scripts/test runs it as "e2e (chromium)")
//
// It starts `target/debug/pharos serve` (PHAROS_BIN overrides) on a free loopback port with a fresh
// SQLite database and the demo data (the TestData datasource and the "Pharos demo" dashboard, uid
// pharos-demo), then runs each scenario in one browser context. Every console error and uncaught
// page exception is recorded and fails the run. A screenshot of each scenario's page is written to
// the folder printed at the start (PHAROS_E2E_SCREENSHOTS overrides it). One "ok"/"FAIL" line per
// scenario, then "e2e (chromium): N passed, M failed"; exit status 1 when anything failed.
//
// Environment: PHAROS_BIN (the server binary), CHROMIUM (default /usr/bin/chromium),
// PHAROS_E2E_SCREENSHOTS (screenshot folder), PHAROS_E2E_ONLY (run scenarios whose name contains it).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

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

/** How long every visible panel has to reach a final state. */
const PANEL_TIMEOUT_MS = 15_000;
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

// --- the server -------------------------------------------------------------------------------

/** The running server, killed if the run is interrupted. */
let activeServer = null;

/** Starts Pharos on 127.0.0.1:0 and resolves once its "pharos is ready" log line names the address. */
async function startPharos(workDir) {
  if (!fs.existsSync(pharosBin)) {
    throw new Error(`${pharosBin} does not exist: run cargo build first (or set PHAROS_BIN)`);
  }
  const logPath = path.join(workDir, 'pharos.log');
  const log = fs.createWriteStream(logPath);
  const child = spawn(pharosBin, ['serve'], {
    cwd: workDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      PHAROS_SERVER_LISTEN: '127.0.0.1:0',
      PHAROS_DATABASE_URL: `sqlite://${path.join(workDir, 'pharos.db')}`,
      PHAROS_SERVER_DEMO_DATA: 'true',
      PHAROS_LOG_FORMAT: 'json',
      PHAROS_LOG_LEVEL: 'info',
    },
  });
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pharos did not log "pharos is ready" within 30 s; see ${logPath}`)),
      30_000,
    );
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${pharosBin}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pharos exited before it was ready (${signal || `exit ${code}`}); see ${logPath}`));
    });
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      log.write(line + '\n');
      try {
        const entry = JSON.parse(line);
        if (entry.message === 'pharos is ready' && entry.address) {
          clearTimeout(timer);
          resolve(entry.address);
        }
      } catch {
        // Not JSON (a panic message): kept in the log file.
      }
    });
  });
  child.removeAllListeners('exit');
  activeServer = child;
  return {
    url: `http://${address}`,
    logPath,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// --- what the browser reports -----------------------------------------------------------------

/**
 * A datasource health check that fails answers 400 {"status":"ERROR"} by design (the UI shows the
 * message), and Chromium logs "Failed to load resource" for every 4xx, which the page cannot
 * prevent. Only that line, for that route, is tolerated; any other console error still fails.
 */
function isExpectedHealthFailure(msg) {
  const url = msg.location()?.url || '';
  return (
    msg.text().startsWith('Failed to load resource: the server responded with a status of 400') &&
    /\/api\/datasources\/uid\/[^/]+\/health$/.test(new URL(url, 'http://x').pathname)
  );
}

/** Console errors and uncaught exceptions of every page in `context`, in order. */
function recordProblems(context) {
  const problems = [];
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !isExpectedHealthFailure(msg)) {
        const where = msg.location()?.url ? ` (${msg.location().url})` : '';
        problems.push(`console error on ${page.url()}: ${msg.text()}${where}`);
      }
    });
    page.on('pageerror', (err) => {
      problems.push(`uncaught exception on ${page.url()}: ${err.stack || err.message || err}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

/** `/api/ds/query` requests the page sends, with their parsed bodies. */
function recordQueries(page) {
  const queries = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/ds/query') {
      let body = null;
      try {
        body = req.postDataJSON();
      } catch {
        body = null;
      }
      queries.push({ at: Date.now(), body });
    }
  });
  return queries;
}

// --- helpers the scenarios share -------------------------------------------------------------

const byTestId = (id) => `[data-testid="${id}"]`;

class ScenarioError extends Error {}
function fail(message) {
  throw new ScenarioError(message);
}
/**
 * Waits until every panel that is visible in the viewport has `data-panel-state` "done" (and, for a
 * time series, pixels painted on its canvas); fails at once when any is "error", or when some are
 * not done and drawn after PANEL_TIMEOUT_MS. Returns the panels seen.
 */
async function waitForVisiblePanels(page) {
  const view = `${byTestId('dashboard')}, ${byTestId('panel')}`;
  const found = await page.waitForSelector(view, { timeout: PANEL_TIMEOUT_MS }).catch(() => null);
  if (!found) {
    fail(
      `no dashboard view: neither [data-testid="dashboard"] nor [data-testid="panel"] on ${page.url()} within ${PANEL_TIMEOUT_MS / 1000} s`,
    );
  }
  await page
    .waitForSelector(byTestId('panel'), { timeout: PANEL_TIMEOUT_MS })
    .catch(() => fail(`the dashboard shows no [data-testid="panel"] within ${PANEL_TIMEOUT_MS / 1000} s`));
  const deadline = Date.now() + PANEL_TIMEOUT_MS;
  let panels = [];
  for (;;) {
    panels = await page.$$eval(byTestId('panel'), (nodes) =>
      nodes.map((n) => {
        const r = n.getBoundingClientRect();
        const visible =
          r.width > 0 &&
          r.height > 0 &&
          r.bottom > 0 &&
          r.right > 0 &&
          r.top < window.innerHeight &&
          r.left < window.innerWidth &&
          getComputedStyle(n).visibility !== 'hidden';
        const title =
          `#${n.getAttribute('data-panel-id') || '?'} ${n.getAttribute('data-panel-type') || ''} ` +
          (n.querySelector('h2, h3, header')?.textContent || '').slice(0, 40);
        // A time series is drawn when its canvas (uPlot) has painted pixels.
        const type = n.getAttribute('data-panel-type') || '';
        let drawn = true;
        if (type === 'timeseries' || type === 'graph') {
          drawn = [...n.querySelectorAll('canvas')].some((c) => {
            if (!c.width || !c.height) return false;
            const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data || [];
            for (let i = 3; i < data.length; i += 4) if (data[i]) return true;
            return false;
          });
        }
        return {
          title: title.trim(),
          drawn,
          state: n.getAttribute('data-panel-state') || '(no data-panel-state)',
          error: n.querySelector('[data-testid="panel-error"]')?.textContent?.trim() || '',
          visible,
        };
      }),
    );
    const visible = panels.filter((p) => p.visible);
    const errors = visible.filter((p) => p.state === 'error');
    if (errors.length) {
      fail(
        `panels in error: ${errors.map((p) => `"${p.title}"${p.error ? ` (${p.error})` : ''}`).join(', ')}`,
      );
    }
    if (visible.length && visible.every((p) => p.state === 'done' && p.drawn)) {
      return panels;
    }
    if (Date.now() > deadline) {
      const pending = visible.filter((p) => p.state !== 'done' || !p.drawn);
      fail(
        visible.length
          ? `after ${PANEL_TIMEOUT_MS / 1000} s, panels not done: ` +
              pending.map((p) => `"${p.title}"=${p.state}${p.drawn ? '' : ' (nothing drawn on its canvas)'}`).join(', ')
          : `no panel is visible in the viewport (${panels.length} in the page)`,
      );
    }
    await page.waitForTimeout(100);
  }
}

/** A query's range as [fromMs, toMs]: Grafana's frontend sends epoch-ms strings. */
function rangeOf(body) {
  const from = Number(body?.from);
  const to = Number(body?.to);
  return Number.isFinite(from) && Number.isFinite(to) ? [from, to] : null;
}

// --- the scenarios ----------------------------------------------------------------------------

const scenarios = [
  {
    name: 'login as admin/admin (skipping the change-password offer)',
    shot: 'login',
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
      await page.goto(`${base}/d/pharos-demo?from=now-6h&to=now`);
      await waitForVisiblePanels(page);
      const before = queries.length;
      if (!before) fail('the dashboard drew its panels without a POST /api/ds/query');
      const changedAt = Date.now();
      await page.goto(`${base}/d/pharos-demo?from=now-1h&to=now`);
      await waitForVisiblePanels(page);
      const after = queries.filter((q) => q.at >= changedAt);
      if (!after.length) fail('no POST /api/ds/query after the time range changed');
      const spans = after.map((q) => rangeOf(q.body)).filter(Boolean).map(([f, t]) => t - f);
      const hour = 3_600_000;
      if (!spans.length) {
        fail(`the queries after the change carry no from/to: ${JSON.stringify(after[0].body).slice(0, 200)}`);
      }
      if (!spans.every((s) => Math.abs(s - hour) < 60_000)) {
        fail(`queries after the change span ${spans.map((s) => `${(s / 60_000).toFixed(1)} min`).join(', ')}, not 1 h`);
      }
      const url = new URL(page.url());
      if (url.searchParams.get('from') !== 'now-1h' || url.searchParams.get('to') !== 'now') {
        fail(`the URL lost the range: ${page.url()}`);
      }
    },
  },
  {
    name: 'add a datasource with Save & test: TestData answers ok',
    shot: 'datasource-testdata',
    async run({ page, base }) {
      await addDatasource(page, base, 'grafana-testdata-datasource', 'E2E TestData');
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
    name: 'the datasource list shows both new datasources',
    shot: 'datasource-list',
    async run({ page, base }) {
      await page.goto(`${base}/connections/datasources`);
      const items = page.locator(byTestId('datasource-list-item'));
      await items.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => fail('no [data-testid="datasource-list-item"] on /connections/datasources'));
      const texts = await items.allTextContents();
      for (const name of ['E2E TestData', 'E2E Prometheus down']) {
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

// --- the run ----------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-e2e-'));
  fs.mkdirSync(shotsDir, { recursive: true });
  console.log(`e2e: server ${pharosBin}, browser ${chromiumBin}`);
  console.log(`e2e: screenshots in ${shotsDir}`);

  let server;
  let browser;
  let passed = 0;
  let failed = 0;
  let keepWorkDir = false;
  try {
    if (!fs.existsSync(chromiumBin)) {
      throw new Error(`${chromiumBin} does not exist: install Debian's chromium (scripts/install-deps) or set CHROMIUM`);
    }
    server = await startPharos(workDir);
    console.log(`e2e: pharos at ${server.url} (log ${server.logPath})`);
    const home = await fetch(`${server.url}/`);
    const homeText = await home.text();
    if (homeText.includes('scripts/build-web')) {
      throw new Error('the server has no web UI to test (it answers the "not built" page): run scripts/build-web first');
    }
    browser = await chromium.launch({
      executablePath: chromiumBin,
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_ARGS,
    });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const problems = recordProblems(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);

    const chosen = scenarios.filter((s) => s.name.includes(only));
    for (const [i, scenario] of chosen.entries()) {
      const t0 = Date.now();
      const seen = problems.length;
      let error = null;
      try {
        await scenario.run({ page, base: server.url });
      } catch (e) {
        error = e instanceof ScenarioError ? e.message : String(e?.stack || e);
      }
      // Let pending paints land (uPlot draws on an animation frame) before the screenshot.
      await page
        .evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
        .catch(() => {});
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
      for (const p of newProblems) console.log(`       ${p}`);
      console.log(`       screenshot: ${shot}`);
    }
    await context.close();
  } catch (e) {
    failed += 1;
    keepWorkDir = true;
    console.log(`FAIL e2e set-up: ${e.message}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop().catch(() => {});
  }
  if (keepWorkDir) {
    console.log(`e2e: server log and database kept in ${workDir}`);
    const logPath = path.join(workDir, 'pharos.log');
    if (fs.existsSync(logPath)) {
      const tail = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-20);
      console.log('e2e: last lines of the server log:');
      for (const line of tail) console.log(`    ${line}`);
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

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`e2e: ${signal}, stopping`);
    activeServer?.kill('SIGKILL');
    process.exit(130);
  });
}

await main();

#!/usr/bin/env node
// Render benchmark of the web UI: how long headless Chromium takes from navigation start until the
// last of 30 time series panels (10 series × 2,000 points each: 600,000 points) has painted, and how
// much JavaScript the first page load needs. Prints figures; never fails on a poor one.
//
//     (cd tests/e2e && npm ci)          # playwright-core, shared with the e2e harness
//     node bench/render.mjs
//     RUNS=10 PHAROS_BIN=target/bench/release/pharos PHAROS_SERVER_WEB_DIR=/tmp/e2e-dist node bench/render.mjs
//
// The server: PHAROS_BIN, else target/release/pharos when present, else target/debug/pharos
// (printed). It runs on a free loopback port with a fresh SQLite database and the demo data (the
// TestData datasource, uid pharos-testdata), serving the UI from PHAROS_SERVER_WEB_DIR when set,
// else its embedded (release) or on-disk (debug) web/dist.
//
// What it does:
//   1. creates, through the API, a dashboard of 30 timeseries panels (gridPos w=8 h=8, 3 per row),
//      each one TestData random_walk query with seriesCount 10, panel maxDataPoints 2000, over
//      now-1999s..now: the UI asks for intervalMs 1000 (1,999 s / 2,000 rounded to 1 s), and TestData
//      answers one point per second from the aligned start to the aligned end inclusive, 2,000 points
//      per series. It checks that count with one POST /api/ds/query before measuring;
//   2. signs in and opens the dashboard RUNS times (default 5) in one browser context: the first
//      navigation is cold (empty HTTP cache), the others warm (assets cached; queries are not, the
//      range moves with `now`). The viewport (1920 × 3300) holds all 30 panels, so every panel
//      queries and draws at once, as on a wall screen — scrolling would measure the scroll instead;
//   3. per run, the time from navigation start (performance.timeOrigin) to the first paint of the
//      last panel: each time series sets data-drawn-at = performance.now() on its chart in uPlot's
//      draw hook (web/src/panels/TimeSeriesPanel.tsx), and an init script records the first value
//      per panel. It also prints when the last /api/ds/query answer arrived (Resource Timing), so
//      server time and drawing time can be told apart;
//   4. the initial JavaScript: index.html's entry script and its static imports (followed
//      recursively; dynamic import() chunks excluded), as served, gzipped at level 9.
// Targets (issue 4): median ≤ 1,500 ms; initial JS ≤ 400 KB gzipped.
//
// Environment: PHAROS_BIN, PHAROS_SERVER_WEB_DIR, CHROMIUM (default /usr/bin/chromium), RUNS (5),
// BENCH_TRACE=1 (print the last run's requests with their start and end times).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { startPharos } from '../tests/e2e/lib/pharos.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(path.join(root, 'tests/e2e/package.json'))('playwright-core');

const RUNS = Math.max(1, Number(process.env.RUNS || 5));
const PANELS = 30;
const SERIES = 10;
const POINTS = 2000;
const RANGE_MS = (POINTS - 1) * 1000;
const VIEWPORT = { width: 1920, height: 3300 };
const TARGET_MS = 1500;
const TARGET_JS_BYTES = 400 * 1024;
const DASHBOARD_UID = 'bench-render';
const TESTDATA = { type: 'grafana-testdata-datasource', uid: 'pharos-testdata' };
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function chooseBinary() {
  if (process.env.PHAROS_BIN) return { bin: process.env.PHAROS_BIN, why: 'PHAROS_BIN' };
  const release = path.join(root, 'target/release/pharos');
  if (fs.existsSync(release)) return { bin: release, why: 'release build' };
  return { bin: path.join(root, 'target/debug/pharos'), why: 'debug build: no target/release/pharos; figures are slower than a release server' };
}

function benchDashboard() {
  const panels = Array.from({ length: PANELS }, (_, i) => ({
    id: i + 1,
    type: 'timeseries',
    title: `Random walk ${i + 1}`,
    gridPos: { x: (i % 3) * 8, y: Math.floor(i / 3) * 8, w: 8, h: 8 },
    datasource: TESTDATA,
    maxDataPoints: POINTS,
    targets: [{ refId: 'A', datasource: TESTDATA, scenarioId: 'random_walk', seriesCount: SERIES, seed: i + 1 }],
    fieldConfig: { defaults: { custom: { lineWidth: 1, fillOpacity: 0, showPoints: 'never' } }, overrides: [] },
    options: { legend: { showLegend: false } },
  }));
  return { uid: DASHBOARD_UID, title: 'Render benchmark', time: { from: `now-${RANGE_MS / 1000}s`, to: 'now' }, refresh: '', schemaVersion: 41, panels };
}

/** One panel's query as the UI sends it, straight to the API: how many series and points come back. */
async function checkPointCount(api) {
  const to = Date.now();
  const answer = await api('POST', '/api/ds/query', {
    from: String(to - RANGE_MS),
    to: String(to),
    queries: [{ refId: 'A', datasource: TESTDATA, scenarioId: 'random_walk', seriesCount: SERIES, intervalMs: 1000, maxDataPoints: POINTS }],
  });
  const frames = answer.results.A.frames ?? [];
  const lengths = frames.map((f) => f.data.values[0].length);
  if (frames.length !== SERIES || lengths.some((n) => n !== POINTS)) {
    throw new Error(`TestData answered ${frames.length} series of ${[...new Set(lengths)].join('/')} points, expected ${SERIES} × ${POINTS}`);
  }
  return { series: frames.length, points: lengths[0] };
}

/** Gzipped size of the entry script of index.html and everything it imports statically. */
async function initialJs(base) {
  const html = await (await fetch(`${base}/`)).text();
  const entries = [...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => m[1]);
  const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]);
  const seen = new Map();
  const queue = [...entries, ...preloads].map((u) => new URL(u, `${base}/`).href);
  while (queue.length) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    const body = Buffer.from(await (await fetch(url, { headers: { 'Accept-Encoding': 'identity' } })).arrayBuffer());
    seen.set(url, body);
    const text = body.toString('utf8');
    // Static imports in Vite's minified output: `import"./x.js"` and `from"./x.js"` (not `import(`).
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']/g)) {
      queue.push(new URL(m[1], url).href);
    }
  }
  const files = [...seen].map(([url, body]) => ({
    name: new URL(url).pathname,
    raw: body.length,
    gzip: zlib.gzipSync(body, { level: 9 }).length,
  }));
  return { files, raw: files.reduce((n, f) => n + f.raw, 0), gzip: files.reduce((n, f) => n + f.gzip, 0) };
}

/** Installed before any page script: the first data-drawn-at each chart reports. */
function recordFirstDraws() {
  const first = new Map();
  window.__benchFirstDraws = first;
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      const el = m.target;
      if (!first.has(el) && el.dataset.drawnAt) first.set(el, { at: Number(el.dataset.drawnAt), points: Number(el.dataset.points) });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-drawn-at'] });
  // Main-thread tasks over 50 ms, for BENCH_TRACE.
  window.__benchLongTasks = [];
  new PerformanceObserver((list) => window.__benchLongTasks.push(...list.getEntries().map((e) => [e.startTime, e.duration]))).observe({ type: 'longtask', buffered: true });
}

async function measure(page, url) {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction((n) => window.__benchFirstDraws?.size === n, PANELS, { timeout: 120_000, polling: 50 });
  return page.evaluate((n) => {
    const draws = [...window.__benchFirstDraws.values()];
    const panels = document.querySelectorAll('[data-testid="panel"]');
    const inView = [...panels].filter((p) => {
      const r = p.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }).length;
    const queries = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/api/ds/query');
    const nav = performance.getEntriesByType('navigation')[0];
    // Script bytes over the wire for this load (0 when served from the HTTP cache).
    const scripts = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'script' || /\.js$/.test(new URL(e.name).pathname));
    const jsTransferred = scripts.reduce((n, e) => n + (e.transferSize || 0), 0);
    const jsFiles = scripts.length;
    return {
      lastDraw: Math.max(...draws.map((d) => d.at)),
      firstDraw: Math.min(...draws.map((d) => d.at)),
      points: draws.reduce((sum, d) => sum + d.points, 0),
      panels: panels.length,
      inView,
      queries: queries.length,
      lastAnswer: Math.max(...queries.map((e) => e.responseEnd)),
      firstQuery: Math.min(...queries.map((e) => e.startTime)),
      answerBytes: queries.reduce((n, e) => n + (e.encodedBodySize || 0), 0),
      domContentLoaded: nav?.domContentLoadedEventEnd ?? NaN,
      jsTransferred,
      jsFiles,
      expected: n,
    };
  }, PANELS);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${Math.round(x)} ms`;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

async function main() {
  const { bin, why } = chooseBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-render-bench-'));
  // Also on Ctrl-C, after processes.mjs has killed the server.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  console.log(`render bench: server ${bin} (${why})`);
  console.log(`render bench: web UI from ${process.env.PHAROS_SERVER_WEB_DIR || 'the binary (embedded or web/dist)'}`);
  console.log(`render bench: machine ${os.cpus().length} CPUs, ${os.cpus()[0]?.model?.trim() || 'unknown CPU'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let pharos;
  let browser;
  try {
    pharos = await startPharos({ bin, dir });
    const base = pharos.url;
    const js = await initialJs(base);
    if (!js.files.length) throw new Error(`no module script in ${base}/ : is the web UI built?`);
    await pharos.api('POST', '/api/dashboards/db', { dashboard: benchDashboard(), overwrite: true });
    const check = await checkPointCount(pharos.api);
    console.log(`render bench: ${PANELS} panels × ${check.series} series × ${check.points} points (checked with POST /api/ds/query)`);

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await context.addInitScript(recordFirstDraws);
    const login = await context.request.post(`${base}/login`, { data: { user: 'admin', password: 'admin' } });
    if (!login.ok()) throw new Error(`login answered ${login.status()}: ${await login.text()}`);
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));

    const results = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await measure(page, `${base}/d/${DASHBOARD_UID}`);
      if (r.inView !== PANELS) throw new Error(`only ${r.inView} of ${PANELS} panels fit the ${VIEWPORT.width}×${VIEWPORT.height} viewport`);
      results.push(r);
      console.log(
        `run ${run}${run === 1 ? ' (cold)' : ' (warm)'}: last panel drawn at ${ms(r.lastDraw)} ` +
          `(DOMContentLoaded ${ms(r.domContentLoaded)}; first query sent ${ms(r.firstQuery)}; ` +
          `last of ${r.queries} answers ${ms(r.lastAnswer)}, ${(r.answerBytes / 1048576).toFixed(1)} MB; first panel drawn ${ms(r.firstDraw)}), ` +
          `${r.points.toLocaleString('en')} points drawn`,
      );
    }
    if (process.env.BENCH_TRACE) {
      // Where the last run's time went: every request, in order, and the long main-thread tasks.
      const trace = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => `${e.startTime.toFixed(0).padStart(6)} → ${e.responseEnd.toFixed(0).padStart(6)} ms  ${e.initiatorType.padEnd(8)} ${new URL(e.name).pathname}`));
      console.log(`render bench: requests of the last run (BENCH_TRACE):\n  ${trace.join('\n  ')}`);
      const tasks = await page.evaluate(() => window.__benchLongTasks.map(([at, d]) => `${at.toFixed(0).padStart(6)} ms: ${d.toFixed(0)} ms`));
      console.log(`render bench: main-thread tasks over 50 ms (start: duration):\n  ${tasks.join('\n  ')}`);
    }
    if (problems.length) console.log(`render bench: browser errors: ${problems.join(' | ')}`);
    const med = median(results.map((r) => r.lastDraw));
    const warm = results.slice(1).map((r) => r.lastDraw);
    console.log('');
    console.log(`render: median ${ms(med)} over ${RUNS} runs (cold ${ms(results[0].lastDraw)}${warm.length ? `, warm median ${ms(median(warm))}` : ''}); ` +
      `${results[0].points.toLocaleString('en')} points drawn per run; target ≤ ${TARGET_MS} ms: ${med <= TARGET_MS ? 'PASS' : 'MISS'}`);
    for (const f of js.files) console.log(`  ${f.name}: ${kb(f.raw)} raw, ${kb(f.gzip)} gzipped`);
    console.log(`JS over the wire on the cold dashboard load (entry + the dashboard route's lazy chunks): ${kb(results[0].jsTransferred)} in ${results[0].jsFiles} files`);
    console.log(`initial JS: ${kb(js.gzip)} gzipped (${kb(js.raw)} raw, ${js.files.length} files); target ≤ 400 KB: ${js.gzip <= TARGET_JS_BYTES ? 'PASS' : 'MISS'}`);
    await context.close();
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (pharos) await pharos.stop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`render bench: ${e.message}`);
  process.exitCode = 1;
});

// What the scenarios share about the page: test-id selectors, failing with a message, the browser's
// console errors, the /api/ds/query requests it sends, and waiting for panels to be drawn.

export const byTestId = (id) => `[data-testid="${id}"]`;

/** A scenario's failure with a message meant for the reader (no stack). */
export class ScenarioError extends Error {}
export function fail(message) {
  throw new ScenarioError(message);
}

/** How long every visible panel has to reach a final state. */
export const PANEL_TIMEOUT_MS = 15_000;

/** The HTTP status and path of Chromium's "Failed to load resource" console line, or null. */
function failedLoad(msg) {
  const status = /^Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text())?.[1];
  if (!status) return null;
  return { status: Number(status), pathname: new URL(msg.location()?.url || '', 'http://x').pathname };
}

/**
 * Chromium logs "Failed to load resource: … status of 4xx" for every HTTP error response, which the
 * page cannot prevent. Only the by-design ones are tolerated: a failing datasource health check
 * (400 {"status":"ERROR"}) and a save that lost to another client's (412, which opens the conflict
 * dialog). Any other console error still fails the scenario.
 */
function isExpectedHttpError(msg) {
  const failed = failedLoad(msg);
  if (!failed) return false;
  const { status, pathname } = failed;
  return (
    (status === 400 && /^\/api\/datasources\/uid\/[^/]+\/health$/.test(pathname)) ||
    (status === 412 && pathname === '/api/dashboards/db')
  );
}

/**
 * Console errors and uncaught exceptions of every page in `context`, in order. `alsoExpected(status,
 * pathname)` tolerates more HTTP errors in this context only (a non-admin's by-design 403s).
 */
export function recordProblems(context, { alsoExpected = () => false } = {}) {
  const problems = [];
  const expected = (msg) => {
    const failed = failedLoad(msg);
    return isExpectedHttpError(msg) || (!!failed && alsoExpected(failed.status, failed.pathname));
  };
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !expected(msg)) {
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

/**
 * `/api/ds/query` requests the page sends from now on, with their parsed bodies:
 * [{ at, body }]. `stop()` detaches the listener.
 */
export function recordQueries(page) {
  const queries = [];
  const listener = (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/ds/query') {
      let body = null;
      try {
        body = req.postDataJSON();
      } catch {
        body = null;
      }
      queries.push({ at: Date.now(), body });
    }
  };
  page.on('request', listener);
  queries.stop = () => page.off('request', listener);
  return queries;
}

/** A query's range as [fromMs, toMs]: Grafana's frontend sends epoch-ms strings. */
export function rangeOf(body) {
  const from = Number(body?.from);
  const to = Number(body?.to);
  return Number.isFinite(from) && Number.isFinite(to) ? [from, to] : null;
}

/**
 * Every panel in the page, as the browser sees it now: { key, title, type, state, error, visible,
 * drawn, noData }. A time series is drawn when its canvas (uPlot) has painted pixels, or when it
 * says "No data" (its query answered without series); other types are drawn once "done".
 */
export async function panelsInPage(page) {
  return page.$$eval('[data-testid="panel"]', (nodes) =>
    nodes.map((n, index) => {
      const r = n.getBoundingClientRect();
      const visible =
        r.width > 0 &&
        r.height > 0 &&
        r.bottom > 0 &&
        r.right > 0 &&
        r.top < window.innerHeight &&
        r.left < window.innerWidth &&
        getComputedStyle(n).visibility !== 'hidden';
      const id = n.getAttribute('data-panel-id') || '?';
      const type = n.getAttribute('data-panel-type') || '';
      const heading = (n.querySelector('.panel-title, h2, h3')?.textContent || '').trim().slice(0, 50);
      const noData = !!n.querySelector('.panel-nodata');
      let drawn = true;
      if ((type === 'timeseries' || type === 'graph') && !noData) {
        drawn = [...n.querySelectorAll('canvas')].some((c) => {
          if (!c.width || !c.height) return false;
          const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data || [];
          for (let i = 3; i < data.length; i += 4) if (data[i]) return true;
          return false;
        });
      }
      return {
        // Repeated copies share an id; the heading and position tell them apart.
        key: `${id}|${heading}|${index}`,
        title: `#${id} ${type} "${heading}"`,
        id,
        type,
        heading,
        state: n.getAttribute('data-panel-state') || '(no data-panel-state)',
        error: n.querySelector('[data-testid="panel-error"]')?.textContent?.trim() || '',
        visible,
        drawn,
        noData,
      };
    }),
  );
}

/** Waits until the dashboard view and at least one panel are in the page. */
export async function waitForDashboard(page) {
  await page
    .waitForSelector(byTestId('panel'), { timeout: PANEL_TIMEOUT_MS })
    .catch(() => fail(`the dashboard shows no [data-testid="panel"] within ${PANEL_TIMEOUT_MS / 1000} s (on ${page.url()})`));
}

/**
 * Waits until every panel that is visible in the viewport is "done" and drawn; fails at once when
 * any is "error", or when some are not done and drawn after PANEL_TIMEOUT_MS. Returns all panels.
 * With `allowNone`, a viewport without any panel (only row headers) is accepted at once.
 */
export async function waitForVisiblePanels(page, { allowNone = false } = {}) {
  await waitForDashboard(page);
  const deadline = Date.now() + PANEL_TIMEOUT_MS;
  for (;;) {
    const panels = await panelsInPage(page);
    const visible = panels.filter((p) => p.visible);
    const errors = visible.filter((p) => p.state === 'error' || p.error);
    if (errors.length) {
      fail(`panels in error: ${errors.map((p) => `${p.title}${p.error ? ` (${p.error})` : ''}`).join(', ')}`);
    }
    if ((visible.length || allowNone) && visible.every((p) => p.state === 'done' && p.drawn)) return panels;
    if (Date.now() > deadline) {
      const pending = visible.filter((p) => p.state !== 'done' || !p.drawn);
      fail(
        visible.length
          ? `after ${PANEL_TIMEOUT_MS / 1000} s, panels not done: ` +
              pending.map((p) => `${p.title}=${p.state}${p.drawn ? '' : ' (nothing drawn on its canvas)'}`).join(', ')
          : `no panel is visible in the viewport (${panels.length} in the page)`,
      );
    }
    await page.waitForTimeout(100);
  }
}

/** Waits for two animation frames, so that pending paints (uPlot draws on a frame) have landed. */
export async function settlePaint(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))).catch(() => {});
}

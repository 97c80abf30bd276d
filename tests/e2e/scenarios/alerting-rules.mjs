// End-to-end scenarios of the alerting pages (alerting-rules); run.mjs runs them after its own.
// Each scenario: { name, shot, run({ page, browser, base, pharos, prometheus, node, report }), timeoutMs? }.
//
// One rule goes through the UI's whole life against the run's real Prometheus (datasource uid
// `prom`, node exporter metrics): written in the editor and previewed (/api/v1/eval), saved into a
// new 10 s group and linked to a dashboard panel, shown in the list with the state the scheduler
// gives it, edited (its instances go back to Normal), seen in the state history and as annotation
// markers on the linked panel, refused when a template does not parse, hidden from a Viewer's
// edit controls, deleted.
// Every scenario name contains "alerting rule", so PHAROS_E2E_ONLY="alerting rule" runs them alone.

import { byTestId, fail, recordProblems } from '../lib/page.mjs';

const PROM_UID = 'prom';
/** Unique per run, so a rerun against a kept database still starts from nothing of its own. */
const runId = Date.now().toString(36);
const folderTitle = `Alerting e2e ${runId}`;
const ruleTitle = `Node CPU idle ${runId}`;
const editedTitle = `${ruleTitle} (edited)`;
const groupName = `node-${runId}`;
/** One series per CPU and scrape job: the rule has several instances. */
const EXPR = 'rate(node_cpu_seconds_total{mode="idle"}[1m])';

/** The dashboard whose panel the rule is linked to (its state changes are drawn there). */
const dashboardUid = `alerting-e2e-${runId}`;
const PANEL_ID = 7;

/** Set by the first scenarios, read by the later ones. */
const made = { uid: null, folderUid: null, instances: 0 };

async function visibleOrFail(locator, message, timeout = 15_000) {
  await locator.waitFor({ state: 'visible', timeout }).catch(async () => fail(typeof message === 'function' ? await message() : message));
}

/** Polls `check()` every 250 ms for up to `timeoutMs`; fails with `message()`. */
async function eventually(check, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) fail(await message());
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The rule's row in the list (by its title), waiting for the list to load. */
async function ruleRow(page, base, title) {
  await page.goto(`${base}/alerting/list`);
  await visibleOrFail(page.locator(byTestId('alert-rule-list')), 'no [data-testid="alert-rule-list"] on /alerting/list');
  const row = page.locator(byTestId('alert-rule-row'), { has: page.locator(byTestId('alert-rule-title'), { hasText: title }) });
  await visibleOrFail(row.first(), async () => {
    const titles = await page.locator(byTestId('alert-rule-title')).allTextContents();
    return `/alerting/list has no row titled ${JSON.stringify(title)} (rows: ${JSON.stringify(titles)})`;
  });
  return row.first();
}

/** Types into the PromQL editor (CodeMirror) of the editor's query `refId`. */
async function typePromQL(page, refId, expr) {
  const input = page.locator(`${byTestId('alert-rule-query')}[data-ref="${refId}"] ${byTestId('promql-input')} .cm-content`);
  await visibleOrFail(input, `query ${refId} shows no PromQL editor`);
  await input.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type(expr);
  // Close the completion popup, then leave the editor: its blur hands the text to the form.
  await page.keyboard.press('Escape');
  await page.locator(byTestId('alert-rule-title-input')).click();
}

async function signIn(page, base, login, password) {
  await page.goto(`${base}/login`);
  await page.fill(byTestId('login-user'), login);
  await page.fill(byTestId('login-password'), password);
  await page.click(byTestId('login-submit'));
  const skip = page.locator(byTestId('change-password-skip'));
  await skip.waitFor({ state: 'visible', timeout: 3_000 }).then(() => skip.click(), () => undefined);
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 }).catch(() => fail(`${login} is still on ${page.url()} after signing in`));
}

export const scenarios = [
  {
    name: 'alerting rule: the editor previews a PromQL rule against Prometheus (one instance per series)',
    shot: 'alerting-rule-preview',
    timeoutMs: 60_000,
    async run({ page, base, report }) {
      await page.goto(`${base}/alerting/list`);
      await visibleOrFail(page.locator(byTestId('alerting-nav')), 'no Alerting tabs ([data-testid="alerting-nav"]) on /alerting/list');
      await page.locator(byTestId('alert-rule-new')).first().click();
      await page.waitForURL((url) => url.pathname === '/alerting/new').catch(() => fail(`"New alert rule" led to ${page.url()}`));
      await visibleOrFail(page.locator(byTestId('alert-rule-editor')), 'no rule editor on /alerting/new');

      await page.fill(byTestId('alert-rule-title-input'), ruleTitle);
      // A folder of its own, made from the editor.
      await page.click(byTestId('alert-rule-new-folder'));
      await page.fill(byTestId('alert-rule-new-folder-title'), folderTitle);
      await page.click(byTestId('alert-rule-new-folder-create'));
      await eventually(
        async () => (await page.locator(`${byTestId('alert-rule-folder')} option:checked`).textContent().catch(() => '')) === folderTitle,
        async () => `the folder picker does not show the new folder ${JSON.stringify(folderTitle)} as chosen`,
      );
      made.folderUid = await page.locator(byTestId('alert-rule-folder')).inputValue();

      await page.selectOption(byTestId('alert-rule-query-datasource'), PROM_UID);
      await typePromQL(page, 'A', EXPR);
      // The defaults: B = last(A), C = B > threshold, C the condition. Every idle rate is above -1.
      const reducer = page.locator(`${byTestId('alert-rule-expression')}[data-ref="B"] ${byTestId('alert-rule-reducer')}`);
      if ((await reducer.inputValue()) !== 'last') fail(`the new rule's B reduces with ${await reducer.inputValue()}, not last`);
      await page.selectOption(`${byTestId('alert-rule-expression')}[data-ref="B"] ${byTestId('alert-rule-reducer')}`, 'mean');
      await page.fill(`${byTestId('alert-rule-expression')}[data-ref="C"] ${byTestId('alert-rule-threshold')}`, '-1');
      if ((await page.locator(byTestId('alert-rule-condition')).inputValue()) !== 'C') fail('the condition is not C');

      await page.click(byTestId('alert-rule-preview'));
      const result = page.locator(byTestId('alert-rule-preview-result'));
      await visibleOrFail(result, async () => {
        const error = page.locator(byTestId('alert-rule-preview-error'));
        return (await error.count()) ? `the preview failed: ${await error.textContent()}` : 'no preview result after clicking Preview';
      }, 20_000);
      const queryHeading = ((await page.locator(`${byTestId('alert-rule-preview-query')}[data-ref="A"] h3`).textContent()) || '').trim();
      const seriesCount = Number(/(\d+) series/.exec(queryHeading)?.[1] ?? 0);
      if (seriesCount < 2) fail(`the preview of A says ${JSON.stringify(queryHeading)}: expected a series per CPU and job`);
      const instances = page.locator(byTestId('alert-rule-preview-instance'));
      const count = await instances.count();
      if (count !== seriesCount) fail(`the preview shows ${count} instances for ${seriesCount} series of A`);
      const states = await instances.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
      if (!states.every((s) => s === 'Alerting')) fail(`with "mean(A) > -1" every instance should be Alerting; the preview says ${JSON.stringify(states)}`);
      const firstRow = ((await instances.first().textContent()) || '').trim();
      if (!/cpu=/.test(firstRow)) fail(`the preview's instance shows no cpu label: ${JSON.stringify(firstRow)}`);
      // The chart of the query is drawn.
      await visibleOrFail(page.locator(`${byTestId('alert-rule-preview-query')}[data-ref="A"] .preview-chart canvas`), 'the preview draws no chart of query A');
      made.instances = count;
      report(`preview: A has ${seriesCount} series; ${count} instances, all Alerting (first: ${firstRow})`);
    },
  },
  {
    name: 'alerting rule: saving it lists it under its folder and group with the state the scheduler gives it',
    shot: 'alerting-rule-list',
    timeoutMs: 90_000,
    async run({ page, base, pharos, report }) {
      if (!made.folderUid) fail('the editor scenario did not get as far as choosing a folder');
      // A dashboard whose panel shows the rule's query: the rule is linked to it.
      await pharos.api('POST', '/api/dashboards/db', {
        overwrite: true,
        dashboard: {
          uid: dashboardUid,
          title: `Alerting e2e ${runId}`,
          time: { from: 'now-15m', to: 'now' },
          panels: [
            {
              id: PANEL_ID,
              type: 'timeseries',
              title: 'CPU idle rate',
              gridPos: { x: 0, y: 0, w: 24, h: 10 },
              datasource: { type: 'prometheus', uid: PROM_UID },
              targets: [{ refId: 'A', expr: EXPR, datasource: { type: 'prometheus', uid: PROM_UID } }],
            },
          ],
        },
      });
      await page.fill(byTestId('alert-rule-dashboard-uid'), dashboardUid);
      await page.fill(byTestId('alert-rule-panel-id'), String(PANEL_ID));
      await page.selectOption(byTestId('alert-rule-group-select'), { label: 'New group…' });
      await page.fill(byTestId('alert-rule-group-name'), groupName);
      await page.fill(byTestId('alert-rule-group-interval'), '10s');
      await page.fill(byTestId('alert-rule-for'), '0s');
      await page.fill(byTestId('alert-rule-summary'), 'CPU {{ $labels.cpu }} idle rate is {{ $value }}');
      await page.click(byTestId('alert-rule-labels-add'));
      await page.fill(byTestId('alert-rule-labels-key'), 'team');
      await page.fill(byTestId('alert-rule-labels-value'), 'e2e');
      await page.click(byTestId('alert-rule-save'));
      await page.waitForURL((url) => url.pathname === '/alerting/list', { timeout: 15_000 }).catch(async () => {
        const error = page.locator(`${byTestId('alert-rule-save-error')}, ${byTestId('alert-rule-problems')}`);
        fail(`saving did not return to the list (still on ${page.url()}): ${(await error.count()) ? await error.first().textContent() : 'no error shown'}`);
      });

      const rules = await pharos.api('GET', '/api/v1/provisioning/alert-rules');
      const saved = rules.find((r) => r.title === ruleTitle);
      if (!saved) fail(`the API has no rule titled ${JSON.stringify(ruleTitle)} after saving`);
      made.uid = saved.uid;
      const problems = [];
      if (saved.folderUID !== made.folderUid) problems.push(`folderUID ${saved.folderUID}`);
      if (saved.ruleGroup !== groupName) problems.push(`ruleGroup ${saved.ruleGroup}`);
      if (saved.condition !== 'C') problems.push(`condition ${saved.condition}`);
      if (saved.for !== '0s') problems.push(`for ${saved.for}`);
      if (saved.labels?.team !== 'e2e') problems.push(`labels ${JSON.stringify(saved.labels)}`);
      if (saved.annotations?.__dashboardUid__ !== dashboardUid || saved.annotations?.__panelId__ !== String(PANEL_ID)) problems.push(`panel link ${JSON.stringify(saved.annotations)}`);
      // Saved from the UI without provenance (X-Disable-Provenance), as Grafana's editor saves.
      if (saved.provenance) problems.push(`provenance ${saved.provenance}`);
      const [a, b, c] = saved.data ?? [];
      if (a?.datasourceUid !== PROM_UID || a?.model?.expr !== EXPR) problems.push(`A ${JSON.stringify(a)}`);
      if (b?.model?.type !== 'reduce' || b?.model?.reducer !== 'mean' || b?.model?.expression !== 'A') problems.push(`B ${JSON.stringify(b?.model)}`);
      if (c?.model?.type !== 'threshold' || JSON.stringify(c?.model?.conditions?.[0]?.evaluator) !== '{"type":"gt","params":[-1]}') problems.push(`C ${JSON.stringify(c?.model)}`);
      if (problems.length) fail(`the saved rule is not what the form said: ${problems.join('; ')}`);
      const group = await pharos.api('GET', `/api/v1/provisioning/folder/${encodeURIComponent(made.folderUid)}/rule-groups/${encodeURIComponent(groupName)}`);
      if (group.interval !== 10) fail(`the new group's interval is ${group.interval} s, not the 10 s the form asked for`);

      // The scheduler evaluates the group every 10 s: the list shows the rule Alerting with its instances.
      let row = await ruleRow(page, base, ruleTitle);
      const folder = page.locator(byTestId('alert-rule-folder'), { hasText: folderTitle });
      await visibleOrFail(folder.locator(`${byTestId('alert-rule-group')}[data-group="${groupName}"]`), `the rule's group ${groupName} is not shown under folder ${folderTitle}`);
      const deadline = Date.now() + 45_000;
      let state = await row.getAttribute('data-state');
      let counts = (await row.locator(byTestId('alert-rule-counts')).textContent()) || '';
      while (!(state === 'Alerting' && /alerting/.test(counts)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2_000));
        row = await ruleRow(page, base, ruleTitle);
        state = await row.getAttribute('data-state');
        counts = (await row.locator(byTestId('alert-rule-counts')).textContent()) || '';
      }
      if (state !== 'Alerting') fail(`45 s after saving, the list shows the rule ${state} (${counts}), not Alerting`);
      // Expanding the row lists its instances, one per series the preview showed.
      await row.locator('button.expand').click();
      const instanceRows = page.locator(byTestId('alert-rule-instance'));
      await visibleOrFail(instanceRows.first(), 'expanding the rule lists no instances');
      if ((await instanceRows.count()) !== made.instances) fail(`the expanded rule lists ${await instanceRows.count()} instances, the preview showed ${made.instances}`);
      // The filters: the state filter keeps it, a label search finds it, another state hides it.
      await page.selectOption(byTestId('alert-rule-state-filter'), 'Pending');
      await eventually(async () => (await page.locator(byTestId('alert-rule-title'), { hasText: ruleTitle }).count()) === 0, () => 'the Pending filter still shows the Alerting rule');
      await page.selectOption(byTestId('alert-rule-state-filter'), 'Alerting');
      await page.fill(byTestId('alert-rule-search'), `team=e2e ${runId}`);
      await visibleOrFail(page.locator(byTestId('alert-rule-title'), { hasText: ruleTitle }), 'filtering by Alerting and "team=e2e" hides the rule');
      report(`saved as ${made.uid} in ${folderTitle}/${groupName} (10 s); the list shows it ${state}: ${counts.trim()}`);
    },
  },
  {
    name: 'alerting rule: editing it changes the stored rule, and the state history shows its transitions',
    shot: 'alerting-rule-history',
    timeoutMs: 90_000,
    async run({ page, base, pharos, report }) {
      if (!made.uid) fail('no rule was saved by the previous scenario');
      const row = await ruleRow(page, base, ruleTitle);
      await row.locator(byTestId('alert-rule-edit')).click();
      await page.waitForURL((url) => url.pathname === `/alerting/${made.uid}/edit`).catch(() => fail(`Edit led to ${page.url()}`));
      const title = page.locator(byTestId('alert-rule-title-input'));
      await eventually(async () => (await title.inputValue()) === ruleTitle, async () => `the editor shows the title ${JSON.stringify(await title.inputValue())}`);
      // The loaded rule fills the form: the query, the reducer, the threshold, the group.
      const expr = (await page.locator(`${byTestId('promql-input')} .cm-content`).first().textContent()) || '';
      if (expr.trim() !== EXPR) fail(`the editor's query A shows ${JSON.stringify(expr)}`);
      const reducer = await page.locator(`${byTestId('alert-rule-expression')}[data-ref="B"] ${byTestId('alert-rule-reducer')}`).inputValue();
      if (reducer !== 'mean') fail(`the editor's B shows reducer ${reducer}`);
      const group = await page.locator(byTestId('alert-rule-group-select')).inputValue();
      const interval = await page.locator(byTestId('alert-rule-group-interval')).inputValue();
      if (group !== groupName || interval !== '10s') fail(`the editor shows group ${JSON.stringify(group)} every ${JSON.stringify(interval)}, not ${groupName} every 10s`);
      await title.fill(editedTitle);
      // Nothing is above 10^9: every instance goes back to Normal.
      await page.fill(`${byTestId('alert-rule-expression')}[data-ref="C"] ${byTestId('alert-rule-threshold')}`, '1000000000');
      await page.click(byTestId('alert-rule-save'));
      await page.waitForURL((url) => url.pathname === '/alerting/list', { timeout: 15_000 }).catch(async () => {
        const error = page.locator(byTestId('alert-rule-save-error'));
        fail(`saving the edit did not return to the list: ${(await error.count()) ? await error.textContent() : 'no error shown'}`);
      });
      const saved = await pharos.api('GET', `/api/v1/provisioning/alert-rules/${made.uid}`);
      if (saved.title !== editedTitle) fail(`the API's rule is titled ${JSON.stringify(saved.title)} after the edit`);
      const threshold = saved.data.find((d) => d.refId === 'C')?.model?.conditions?.[0]?.evaluator?.params?.[0];
      if (threshold !== 1e9) fail(`the API's threshold is ${threshold} after the edit`);
      if (saved.ruleGroup !== groupName || saved.labels?.team !== 'e2e') fail(`the edit lost the group or labels: ${saved.ruleGroup}, ${JSON.stringify(saved.labels)}`);

      // The scheduler moves the instances Alerting → Normal; the history page shows both changes.
      const deadline = Date.now() + 45_000;
      let rows = 0;
      let text = '';
      for (;;) {
        await page.goto(`${base}/alerting/history?ruleUID=${encodeURIComponent(made.uid)}`);
        await visibleOrFail(page.locator(byTestId('alert-history')), 'no [data-testid="alert-history"] on /alerting/history');
        await page.locator(`${byTestId('alert-history-table')}, .empty-state`).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
        const table = page.locator(byTestId('alert-history-row'));
        rows = await table.count();
        text = rows ? ((await page.locator(byTestId('alert-history-table')).textContent()) || '') : '';
        if (/Alerting\s*→\s*Normal/.test(text) && /→\s*Alerting/.test(text)) break;
        if (Date.now() > deadline) fail(`45 s after the edit the history shows ${rows} rows without both a change to Alerting and Alerting → Normal: ${text.slice(0, 400)}`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
      const other = await page.locator(byTestId('alert-history-row')).evaluateAll((trs, uid) => trs.filter((tr) => tr.getAttribute('data-rule') !== uid).length, made.uid);
      if (other) fail(`the history filtered to ${made.uid} shows ${other} rows of other rules`);
      const states = await pharos.api('GET', `/api/prometheus/grafana/api/v1/rules?rule_uid=${encodeURIComponent(made.uid)}`);
      const state = states.data.groups[0]?.rules[0]?.state;
      if (state !== 'inactive') fail(`after Alerting → Normal the rule state API says ${state}, not inactive`);
      report(`edited: title and threshold stored; history shows ${rows} transitions (to Alerting, then Alerting → Normal); the rule is now ${state}`);
    },
  },
  {
    name: 'alerting rule: its state changes are drawn on the linked dashboard panel, with a tooltip',
    shot: 'alerting-rule-annotations',
    timeoutMs: 60_000,
    async run({ page, base, report }) {
      if (!made.uid) fail('no rule was saved by the earlier scenarios');
      const requests = [];
      const listener = (req) => {
        const url = new URL(req.url());
        if (url.pathname === '/api/annotations') requests.push(url.searchParams);
      };
      page.on('request', listener);
      try {
        await page.goto(`${base}/d/${dashboardUid}`);
        const panel = page.locator(`${byTestId('panel')}[data-panel-id="${PANEL_ID}"]`);
        await visibleOrFail(panel.locator('canvas').first(), `the linked panel ${PANEL_ID} draws no chart`);
        const markers = panel.locator(byTestId('annotation-marker'));
        await visibleOrFail(markers.first(), async () => `the linked panel shows no annotation marker (${requests.length} /api/annotations requests)`);
        const states = await markers.evaluateAll((els) => els.map((e) => e.getAttribute('data-state') || ''));
        if (!states.some((s) => s.startsWith('Alerting'))) fail(`no marker of a change to Alerting: ${JSON.stringify(states)}`);
        if (!states.some((s) => s.startsWith('Normal'))) fail(`no marker of the change back to Normal: ${JSON.stringify(states)}`);
        const query = requests[0];
        if (!query || query.get('type') !== 'alert' || query.get('dashboardUID') !== dashboardUid || !query.get('from') || !query.get('to')) {
          fail(`the dashboard asked /api/annotations with ${query ? query.toString() : 'nothing'}`);
        }
        if (requests.length !== 1) fail(`the dashboard sent ${requests.length} /api/annotations requests for one panel and one range, not 1`);
        const alerting = panel.locator(`${byTestId('annotation-marker')}[data-state^="Alerting"]`).first();
        await alerting.hover();
        const tooltip = page.locator(byTestId('annotation-tooltip'));
        await visibleOrFail(tooltip, 'hovering a marker shows no [data-testid="annotation-tooltip"]');
        const text = ((await tooltip.textContent()) || '').trim();
        if (!text.includes(ruleTitle) || !/→\s*Alerting/.test(text)) fail(`the marker's tooltip says ${JSON.stringify(text)}: expected the rule's title and "→ Alerting"`);
        report(`${states.length} markers on panel ${PANEL_ID} (${[...new Set(states)].join(', ')}); tooltip: ${text.slice(0, 160)}`);
      } finally {
        page.off('request', listener);
      }
    },
  },
  {
    name: 'alerting rule: a rule the server refuses shows its 400 message in the editor, and a Viewer gets no edit links',
    shot: 'alerting-rule-refused',
    timeoutMs: 60_000,
    async run({ browser, base, pharos, report }) {
      if (!made.uid) fail('no rule was saved by the earlier scenarios');
      // A context of its own: the refused save is a 400 on purpose, and the viewer signs in apart.
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      const problems = recordProblems(context, {
        alsoExpected: (status, pathname) => status === 400 && pathname === '/api/v1/provisioning/alert-rules',
      });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await signIn(page, base, 'admin', 'admin');
        await page.goto(`${base}/alerting/new`);
        await visibleOrFail(page.locator(byTestId('alert-rule-editor')), 'no rule editor on /alerting/new');
        await page.fill(byTestId('alert-rule-title-input'), `Refused ${runId}`);
        await page.selectOption(byTestId('alert-rule-folder'), made.folderUid);
        await page.selectOption(byTestId('alert-rule-group-select'), groupName);
        await page.selectOption(byTestId('alert-rule-query-datasource'), PROM_UID);
        await typePromQL(page, 'A', 'up');
        // A template that does not parse: the server refuses it at save time.
        await page.fill(byTestId('alert-rule-summary'), 'broken {{ $labels.instance ');
        await page.click(byTestId('alert-rule-save'));
        const error = page.locator(byTestId('alert-rule-save-error'));
        await visibleOrFail(error, 'a refused save shows no [data-testid="alert-rule-save-error"]');
        const message = ((await error.textContent()) || '').trim();
        if (!/invalid alert rule/i.test(message)) fail(`the refused save says ${JSON.stringify(message)}, not the server's "invalid alert rule: ..."`);
        if (new URL(page.url()).pathname !== '/alerting/new') fail(`a refused save left the editor for ${page.url()}`);
        // Missing fields are named before anything is sent.
        await page.fill(byTestId('alert-rule-title-input'), '');
        await page.click(byTestId('alert-rule-save'));
        await visibleOrFail(page.locator(byTestId('alert-rule-problems')), 'a rule without a title shows no problem list');
        report(`refused save: "${message}"`);

        const login = `viewer-${runId}`;
        const password = `pw-${runId}-secret`;
        await pharos.api('POST', '/api/admin/users', { login, password, name: login, email: `${login}@example.com` });
        const viewer = await context.newPage();
        await context.clearCookies();
        await signIn(viewer, base, login, password);
        await viewer.goto(`${base}/alerting/list`);
        const row = viewer.locator(byTestId('alert-rule-row'), { has: viewer.locator(byTestId('alert-rule-title'), { hasText: editedTitle }) });
        await visibleOrFail(row, `the Viewer ${login} does not see the rule in the list`);
        await viewer.waitForTimeout(1_000);
        if (await viewer.locator(byTestId('alert-rule-new')).count()) fail('a Viewer sees "New alert rule"');
        if (await row.locator(byTestId('alert-rule-edit')).count()) fail('a Viewer sees Edit on a rule');
        if (!(await row.locator(byTestId('alert-rule-history')).count())) fail('a Viewer sees no History link');
        // Its editor by URL: read-only (Save disabled, no Delete, no Preview).
        await viewer.goto(`${base}/alerting/${made.uid}/edit`);
        await visibleOrFail(viewer.locator(byTestId('alert-rule-editor')), `the Viewer's /alerting/${made.uid}/edit shows no editor`);
        await eventually(async () => await viewer.locator(byTestId('alert-rule-save')).isDisabled(), () => 'a Viewer can press Save rule');
        if (await viewer.locator(byTestId('alert-rule-delete')).count()) fail('a Viewer sees Delete in the editor');
        if (!(await viewer.locator(byTestId('alert-rule-preview')).isDisabled())) fail('a Viewer can press Preview');
        report(`Viewer ${login}: the rule is listed with History and without New or Edit; its editor is read-only`);
      } finally {
        await context.close();
      }
      if (problems.length) fail(`console errors: ${problems.join('; ')}`);
    },
  },
  {
    name: 'alerting rule: deleting it (after confirming) removes it from the list and the API',
    shot: 'alerting-rule-deleted',
    timeoutMs: 60_000,
    async run({ page, base, pharos, report }) {
      if (!made.uid) fail('no rule was saved by the earlier scenarios');
      await page.goto(`${base}/alerting/${made.uid}/edit`);
      await visibleOrFail(page.locator(byTestId('alert-rule-delete')), 'the editor of a saved rule shows no Delete');
      await page.click(byTestId('alert-rule-delete'));
      await visibleOrFail(page.locator(byTestId('alert-rule-delete-dialog')), 'Delete asks no confirmation');
      await page.click(byTestId('alert-rule-delete-confirm'));
      await page.waitForURL((url) => url.pathname === '/alerting/list', { timeout: 15_000 }).catch(() => fail(`deleting did not return to the list (on ${page.url()})`));
      await visibleOrFail(page.locator(byTestId('alert-rule-list')), 'no list after deleting');
      await page.locator(`${byTestId('alert-rule-row')}, ${byTestId('alert-rule-empty')}`).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
      if (await page.locator(byTestId('alert-rule-title'), { hasText: editedTitle }).count()) fail('the deleted rule is still listed');
      const rules = await pharos.api('GET', '/api/v1/provisioning/alert-rules');
      if (rules.some((r) => r.uid === made.uid)) fail(`the API still has rule ${made.uid} after deleting`);
      report(`deleted ${made.uid}; ${rules.length} rule(s) left in the org`);
    },
  },
];

// End-to-end scenarios of the alerting pages (alerting-notifications); run.mjs runs them after its own.
// Each scenario: { name, shot, run({ page, browser, base, pharos, prometheus, node, report }), timeoutMs? }.
//
// The notification pages: a webhook contact point made in the UI and tested against a receiver the
// scenario runs (http.createServer on 127.0.0.1:0), its secret kept over an edit; a nested
// notification policy with a matcher saved and seen again after a reload; a silence opened from a
// link's ?matcher=, filtered, listed active, then expired; the server's 409 (deleting a contact point
// a policy routes to) and 400s (testing e-mail without SMTP, a policy the server refuses) shown on the
// pages; an Alertmanager integration tested against Debian's prometheus-alertmanager; and a Viewer,
// who sees the lists without any write control.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { byTestId, fail, recordProblems } from '../lib/page.mjs';
import { freePort, requireProgram, startProcess } from '../lib/processes.mjs';

/** Unique per run, so a rerun against a kept database still works. */
const tag = Date.now().toString(36);
const hookName = `e2e-hook-${tag}`;
const alertName = `E2ESilenced-${tag}`;

/**
 * An HTTP receiver on a free loopback port that records every request ({ method, path, headers,
 * body }) and answers 200. `status` changes what it answers.
 */
async function startReceiver() {
  const requests = [];
  const receiver = { requests, status: 200 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      requests.push({ method: req.method, path: req.url, headers: req.headers, body });
      res.writeHead(receiver.status, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  receiver.url = `http://127.0.0.1:${server.address().port}`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

/** A loopback URL nothing listens on (a port taken and released again). */
async function closedPortUrl() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/nobody`;
}

async function visibleOrFail(locator, message, timeout = 10_000) {
  await locator.waitFor({ state: 'visible', timeout }).catch(() => fail(message));
}

async function textOf(locator) {
  return ((await locator.first().textContent().catch(() => '')) || '').trim();
}

/** The text of the first visible error on the page (`[role=alert]`), for failure messages. */
async function shownErrors(page) {
  const alerts = await page.locator('[role="alert"]').allTextContents();
  return alerts.map((t) => t.trim()).filter(Boolean).join(' | ') || 'none shown';
}

async function eventually(check, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) fail(typeof message === 'function' ? await message() : message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A browser context of its own, signed in as `login`; problems recorded with `alsoExpected`. */
async function signedIn(browser, base, login, password, alsoExpected) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const problems = recordProblems(context, { alsoExpected });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${base}/login`);
  await page.fill(byTestId('login-user'), login);
  await page.fill(byTestId('login-password'), password);
  await page.click(byTestId('login-submit'));
  // A default password (admin/admin) brings the offer to change it first; skip it.
  const skip = page.locator(byTestId('change-password-skip'));
  const signedInOrOffer = await Promise.race([
    page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 }).then(() => 'in'),
    skip.waitFor({ state: 'visible', timeout: 10_000 }).then(() => 'offer'),
  ]).catch(() => 'neither');
  if (signedInOrOffer === 'offer') await skip.click();
  await page
    .waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 })
    .catch(() => fail(`${login} is still on ${page.url()} after logging in`));
  return { context, page, problems };
}

const contactPoints = (pharos) => pharos.api('GET', '/api/v1/provisioning/contact-points');

/**
 * Debian's prometheus-alertmanager on a free loopback port, clustering off, routing everything to
 * a receiver that sends nothing (the alerts it got stay readable on its v2 API).
 */
async function startAlertmanager() {
  const program = requireProgram('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-e2e-am-'));
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child = startProcess('alertmanager', program, [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ], { dir });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (child.exited() || Date.now() > deadline) {
      await child.stop();
      throw new Error(`prometheus-alertmanager did not get ready: ${child.log().slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    alerts: async () => (await fetch(`${url}/api/v2/alerts`)).json(),
    stop: async () => {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Set by the contact point scenario; the policy scenario routes to it. */
let hookUid = '';

export const scenarios = [
  {
    name: 'alerting notifications: a webhook contact point made in the UI, its Test reaches a receiver; the secret survives an edit',
    shot: 'alerting-contact-points',
    async run({ page, base, pharos, report }) {
      const receiver = await startReceiver();
      try {
        await page.goto(`${base}/alerting/notifications`);
        await visibleOrFail(page.locator(byTestId('cp-add')), 'no [data-testid="cp-add"] on /alerting/notifications for admin');
        await page.click(byTestId('cp-add'));
        const form = page.locator(byTestId('cp-form'));
        await visibleOrFail(form, 'Add contact point opened no [data-testid="cp-form"]');
        await page.fill(byTestId('cp-name'), hookName);
        if ((await page.locator(byTestId('cp-type')).inputValue()) !== 'webhook') fail('a new contact point is not a webhook by default');
        await page.fill(byTestId('cp-field-url'), `${receiver.url}/hook`);
        await page.fill(byTestId('cp-field-username'), 'e2e-bot');
        await page.fill(byTestId('cp-field-password'), 'hunter2-secret');
        await page.click(byTestId('cp-save'));
        await form.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`the contact point form stayed open: ${await shownErrors(page)}`));

        const row = page.locator(`${byTestId('cp-row')}[data-name="${hookName}"]`);
        await visibleOrFail(row, `no [data-testid="cp-row"][data-name="${hookName}"] after saving`);
        hookUid = (await row.getAttribute('data-uid')) || '';
        const stored = (await contactPoints(pharos)).find((cp) => cp.name === hookName);
        if (!stored) fail(`GET /api/v1/provisioning/contact-points has no ${hookName}`);
        if (stored.uid !== hookUid) fail(`the row's uid ${hookUid} is not the API's ${stored.uid}`);
        if (stored.settings.url !== `${receiver.url}/hook` || stored.settings.password !== '[REDACTED]' || stored.settings.username !== 'e2e-bot') {
          fail(`the saved settings are ${JSON.stringify(stored.settings)}`);
        }
        const summary = await textOf(row.locator('.an-summary'));
        if (!summary.includes(`${receiver.url}/hook`)) fail(`the row says ${JSON.stringify(summary)}, not the URL`);

        // Test from the list: the receiver gets Grafana's test alert, with the stored password.
        const expectedAuth = `Basic ${Buffer.from('e2e-bot:hunter2-secret').toString('base64')}`;
        await row.locator(byTestId('cp-test')).click();
        const result = row.locator(byTestId('cp-test-result'));
        await visibleOrFail(result, `Test showed no result: ${await shownErrors(page)}`, 20_000);
        if ((await result.getAttribute('data-ok')) !== 'true') fail(`Test says ${JSON.stringify(await textOf(result))}`);
        await eventually(() => receiver.requests.length >= 1, 'the receiver got no request from Test');
        const first = receiver.requests[0];
        const labels = first.body?.alerts?.[0]?.labels ?? {};
        if (first.method !== 'POST' || first.path !== '/hook') fail(`the test arrived as ${first.method} ${first.path}`);
        if (labels.alertname !== 'TestAlert') fail(`the test notification's alert has labels ${JSON.stringify(labels)}`);
        if (first.headers.authorization !== expectedAuth) fail(`the test notification's Authorization is ${JSON.stringify(first.headers.authorization)}`);
        report(`${hookName} (uid ${hookUid}) → ${receiver.url}/hook; Test: the receiver got POST with alertname=TestAlert and the stored basic auth; the row says "${await textOf(result)}"`);

        // Edit: the secret shows as configured; an unreachable URL tested from the form shows the error inline.
        await row.locator(byTestId('cp-edit')).click();
        await visibleOrFail(form, 'Edit opened no [data-testid="cp-form"]');
        await visibleOrFail(page.locator(byTestId('cp-field-password-configured')), 'the stored password does not show as configured in the form');
        const urlField = page.locator(byTestId('cp-field-url'));
        await urlField.fill(await closedPortUrl());
        await page.click(byTestId('cp-form-test'));
        const formResult = page.locator(byTestId('cp-form-test-result'));
        await visibleOrFail(formResult, `testing the form showed no result: ${await shownErrors(page)}`, 20_000);
        const failure = await textOf(formResult);
        if ((await formResult.getAttribute('data-ok')) !== 'false' || !/Test failed: .+/.test(failure)) fail(`testing an unreachable URL says ${JSON.stringify(failure)}`);
        report(`form Test against a closed port: "${failure}"`);

        // Back to the receiver, as PUT, the password untouched: saved, and Test still authenticates.
        await urlField.fill(`${receiver.url}/hook2`);
        await page.selectOption(byTestId('cp-field-httpMethod'), 'PUT');
        await page.click(byTestId('cp-save'));
        await form.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`saving the edit failed: ${await shownErrors(page)}`));
        const edited = (await contactPoints(pharos)).find((cp) => cp.uid === hookUid);
        if (edited?.settings.httpMethod !== 'PUT' || edited?.settings.url !== `${receiver.url}/hook2`) fail(`after the edit the settings are ${JSON.stringify(edited?.settings)}`);
        const before = receiver.requests.length;
        await row.locator(byTestId('cp-test')).click();
        await eventually(async () => (await result.getAttribute('data-ok').catch(() => null)) === 'true' && receiver.requests.length > before, async () => `Test after the edit: ${await textOf(result)}; ${receiver.requests.length - before} request(s)`);
        const second = receiver.requests[before];
        if (second.method !== 'PUT' || second.path !== '/hook2') fail(`after the edit the test arrived as ${second.method} ${second.path}`);
        if (second.headers.authorization !== expectedAuth) fail(`after the edit the password was lost: Authorization ${JSON.stringify(second.headers.authorization)}`);
        report('edited to PUT /hook2 without retyping the password: Test arrived with the same basic auth');
      } finally {
        await receiver.close();
      }
    },
  },
  {
    name: 'alerting notifications: a nested policy with a matcher saved in the UI is there after a reload',
    shot: 'alerting-policies',
    async run({ page, base, pharos, report }) {
      if (!hookUid) fail('the contact point scenario did not create the contact point this one routes to');
      await page.goto(`${base}/alerting/routes`);
      const root = page.locator(byTestId('policy-root'));
      await visibleOrFail(root, 'no [data-testid="policy-root"] on /alerting/routes');
      // The default tree routes to grafana-default-email, which no contact point may be named (Pharos
      // makes none): the page warns when the root's receiver is missing, and the default policy is
      // pointed at the hook first.
      const before = await pharos.api('GET', '/api/v1/provisioning/policies');
      const rootMissing = !(await contactPoints(pharos)).some((cp) => cp.name === before.receiver);
      const warning = page.locator(byTestId('policy-missing-receivers'));
      if (rootMissing) await visibleOrFail(warning, `the page does not warn that the default policy routes to "${before.receiver}", which no contact point is named`);
      else if (await warning.isVisible()) fail(`the page warns of missing contact points although "${before.receiver}" exists: ${await textOf(warning)}`);
      await root.locator(byTestId('policy-edit')).first().click();
      const rootForm = page.locator(byTestId('policy-form'));
      await visibleOrFail(rootForm, 'Edit on the default policy opened no [data-testid="policy-form"]');
      await rootForm.locator(byTestId('policy-receiver-select')).selectOption(hookName);
      await rootForm.locator(byTestId('policy-repeat-interval')).fill('2h');
      await rootForm.locator(byTestId('policy-apply')).click();
      await rootForm.waitFor({ state: 'detached', timeout: 5_000 }).catch(async () => fail(`the default policy's form stayed open: ${await shownErrors(page)}`));
      await root.locator(byTestId('policy-add-child')).first().click();
      const form = page.locator(byTestId('policy-form'));
      await visibleOrFail(form, 'Add nested policy opened no [data-testid="policy-form"]');
      await form.locator(byTestId('policy-matchers-name')).first().fill('team');
      await form.locator(byTestId('policy-matchers-op')).first().selectOption('=~');
      await form.locator(byTestId('policy-matchers-value')).first().fill('ops|dev');
      await form.locator(byTestId('policy-receiver-select')).selectOption(hookName);
      await form.locator(byTestId('policy-continue')).check();
      await form.locator(byTestId('policy-group-wait')).fill('10s');
      await form.locator(byTestId('policy-apply')).click();
      await form.waitFor({ state: 'detached', timeout: 5_000 }).catch(async () => fail(`the policy form stayed open: ${await shownErrors(page)}`));
      await visibleOrFail(page.locator(byTestId('policy-dirty')), 'adding a policy did not mark the tree as changed');
      await page.click(byTestId('policy-save'));
      await visibleOrFail(page.locator(byTestId('policy-saved')), `Save did not say saved: ${await shownErrors(page)}`);

      await page.reload();
      const node = page.locator(byTestId('policy-node'), { hasText: 'team=~ops|dev' });
      await visibleOrFail(node, `after a reload no nested policy shows team=~ops|dev (policies: ${await page.locator(byTestId('policy-node')).allTextContents()})`);
      const receiverText = await textOf(node.locator(byTestId('policy-receiver')));
      if (!receiverText.includes(hookName)) fail(`the nested policy routes to ${JSON.stringify(receiverText)}`);
      const tree = await pharos.api('GET', '/api/v1/provisioning/policies');
      const saved = (tree.routes || []).find((r) => JSON.stringify(r.object_matchers) === JSON.stringify([['team', '=~', 'ops|dev']]));
      if (!saved || saved.receiver !== hookName || saved.continue !== true || saved.group_wait !== '10s') fail(`the API's tree is ${JSON.stringify(tree)}`);
      if (tree.receiver !== hookName || tree.repeat_interval !== '2h' || JSON.stringify(tree.group_by) !== JSON.stringify(['grafana_folder', 'alertname'])) {
        fail(`the default policy saved is ${JSON.stringify({ ...tree, routes: undefined })}`);
      }
      report(`saved: ${JSON.stringify(saved)} (tree version ${tree.version}); after a reload the page shows it → ${hookName}`);
    },
  },
  {
    name: "alerting notifications: the server's 409 and 400 shown (delete a routed contact point, test e-mail without SMTP, save a policy it refuses)",
    shot: 'alerting-notification-errors',
    async run({ browser, base, pharos, report }) {
      if (!hookUid) fail('the contact point scenario did not create the contact point to delete');
      // By design: 409 for the delete, 400 for the policy the server refuses and for testing an
      // e-mail integration (Pharos has no SMTP settings, so every one of them is invalid to send).
      const { context, page, problems } = await signedIn(
        browser,
        base,
        'admin',
        'admin',
        (status, pathname) =>
          (status === 409 && pathname.startsWith('/api/v1/provisioning/contact-points/')) ||
          (status === 400 && (pathname === '/api/v1/provisioning/policies' || pathname === '/api/alertmanager/grafana/config/api/v1/receivers/test')),
      );
      try {
        await page.goto(`${base}/alerting/notifications`);
        const row = page.locator(`${byTestId('cp-row')}[data-uid="${hookUid}"]`);
        await visibleOrFail(row, `no row for ${hookName}`);
        // The default policy and the nested one both name it.
        const usage = page.locator(`${byTestId('cp-group')}[data-name="${hookName}"] ${byTestId('cp-usage')}`);
        await visibleOrFail(usage, `no [data-testid="cp-usage"] for ${hookName}`);
        if ((await textOf(usage)) !== 'used by 2 policies') fail(`${hookName} says ${JSON.stringify(await textOf(usage))}, not "used by 2 policies"`);
        await row.locator(byTestId('cp-delete')).click();
        await row.locator(byTestId('cp-delete-confirm')).click();
        const error = row.locator(byTestId('cp-delete-error'));
        await visibleOrFail(error, 'deleting a contact point a policy routes to showed no [data-testid="cp-delete-error"]');
        const deleteText = await textOf(error);
        if (!/referenced by a notification policy/.test(deleteText)) fail(`the delete error says ${JSON.stringify(deleteText)}`);
        if (!(await contactPoints(pharos)).some((cp) => cp.uid === hookUid)) fail('the contact point is gone although the page showed an error');

        // An e-mail contact point saves (its addresses and templates check), but its test answers
        // 400 with the receiver's own error, shown in the form.
        await page.click(byTestId('cp-add'));
        const form = page.locator(byTestId('cp-form'));
        await visibleOrFail(form, 'Add contact point opened no [data-testid="cp-form"]');
        await page.fill(byTestId('cp-name'), `e2e-mail-${tag}`);
        await page.selectOption(byTestId('cp-type'), 'email');
        await page.fill(byTestId('cp-field-addresses'), 'oncall@example.com\nops@example.com');
        await page.fill(byTestId('cp-field-subject'), '{{ .CommonLabels.alertname }} fired');
        await page.click(byTestId('cp-form-test'));
        const mailTest = page.locator(byTestId('cp-form-test-result'));
        await visibleOrFail(mailTest, `testing an e-mail integration showed no result: ${await shownErrors(page)}`, 20_000);
        const mailText = await textOf(mailTest);
        if ((await mailTest.getAttribute('data-ok')) !== 'false' || !/Test failed: .*(smtp|SMTP|invalid)/.test(mailText)) fail(`testing e-mail says ${JSON.stringify(mailText)}`);
        await page.click(byTestId('cp-save'));
        await form.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`saving the e-mail contact point failed: ${await shownErrors(page)}`));
        const mail = (await contactPoints(pharos)).find((cp) => cp.name === `e2e-mail-${tag}`);
        if (mail?.type !== 'email' || mail.settings.addresses !== 'oncall@example.com;ops@example.com') fail(`the e-mail contact point saved is ${JSON.stringify(mail)}`);

        // A lookahead is a JavaScript regular expression but not one the server accepts: its 400 shows.
        await page.goto(`${base}/alerting/routes`);
        const node = page.locator(byTestId('policy-node'), { hasText: 'team=~ops|dev' });
        await visibleOrFail(node, 'the nested policy of the previous scenario is not shown');
        await node.locator(byTestId('policy-edit')).first().click();
        const policyForm = page.locator(byTestId('policy-form'));
        await policyForm.locator(byTestId('policy-matchers-value')).first().fill('(?=ops)ops');
        await policyForm.locator(byTestId('policy-apply')).click();
        await policyForm.waitFor({ state: 'detached', timeout: 5_000 }).catch(async () => fail(`the policy form stayed open: ${await shownErrors(page)}`));
        await page.click(byTestId('policy-save'));
        const saveError = page.locator(byTestId('policy-save-error'));
        await visibleOrFail(saveError, 'saving a policy the server refuses showed no [data-testid="policy-save-error"]');
        const saveText = await textOf(saveError);
        if (!/invalid policy tree/i.test(saveText)) fail(`the save error says ${JSON.stringify(saveText)}`);
        await visibleOrFail(page.locator(byTestId('policy-dirty')), 'after a refused save the changes are no longer marked unsaved');
        const tree = await pharos.api('GET', '/api/v1/provisioning/policies');
        if (JSON.stringify(tree).includes('(?=ops)')) fail('the refused tree was saved');
        report(`delete → "${deleteText}"; e-mail test → "${mailText}"; save → "${saveText}"`);
      } finally {
        await context.close();
      }
      if (problems.length) fail(`console errors: ${problems.join('; ')}`);
    },
  },
  {
    name: 'alerting notifications: a silence opened from ?matcher=, listed active, edited in place, filtered, then expired',
    shot: 'alerting-silences',
    async run({ page, base, pharos, report }) {
      await page.goto(`${base}/alerting/silences?matcher=${encodeURIComponent(`alertname=${alertName}`)}`);
      const form = page.locator(byTestId('silence-form'));
      await visibleOrFail(form, 'a ?matcher= link opened no [data-testid="silence-form"]');
      const name = await form.locator(byTestId('silence-matchers-name')).first().inputValue();
      const value = await form.locator(byTestId('silence-matchers-value')).first().inputValue();
      if (name !== 'alertname' || value !== alertName) fail(`the form's first matcher is ${name}=${value}`);
      await form.locator(byTestId('silence-matchers-add')).click();
      await form.locator(byTestId('silence-matchers-name')).nth(1).fill('severity');
      await form.locator(byTestId('silence-matchers-op')).nth(1).selectOption('!=');
      await form.locator(byTestId('silence-matchers-value')).nth(1).fill('info');
      await form.locator(byTestId('silence-duration')).fill('1h 30m');
      await form.locator(byTestId('silence-comment-input')).fill(`e2e maintenance ${tag}`);
      await form.locator(byTestId('silence-save')).click();
      await form.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`the silence form stayed open: ${await shownErrors(page)}`));
      if (new URL(page.url()).searchParams.has('matcher')) fail(`the ?matcher= stayed in the URL after saving: ${page.url()}`);

      const silences = await pharos.api('GET', `/api/alertmanager/grafana/api/v2/silences?filter=${encodeURIComponent(`alertname=${alertName}`)}`);
      if (silences.length !== 1) fail(`the API lists ${silences.length} silences of ${alertName}`);
      const silence = silences[0];
      const lengthMin = (Date.parse(silence.endsAt) - Date.parse(silence.startsAt)) / 60_000;
      if (Math.abs(lengthMin - 90) > 1) fail(`the silence lasts ${lengthMin} min, not 90`);
      const matchers = JSON.stringify(silence.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual]));
      if (matchers !== JSON.stringify([['alertname', alertName, false, true], ['severity', 'info', false, false]])) fail(`the silence's matchers are ${matchers}`);
      if (silence.createdBy !== 'admin') fail(`createdBy is ${JSON.stringify(silence.createdBy)}`);

      const row = page.locator(`${byTestId('silence-row')}[data-id="${silence.id}"]`);
      await visibleOrFail(row, `no [data-testid="silence-row"][data-id="${silence.id}"]`);
      if ((await row.getAttribute('data-state')) !== 'active') fail(`the new silence's row is ${await row.getAttribute('data-state')}`);
      const chips = await row.locator(byTestId('matcher-chip')).allTextContents();
      if (chips.join(' ') !== `alertname=${alertName} severity!=info`) fail(`the row shows matchers ${JSON.stringify(chips)}`);

      // Editing the comment of an active silence keeps it (same id, same start): Alertmanager's in-place update.
      await row.locator(byTestId('silence-edit')).click();
      const editForm = page.locator(byTestId('silence-form'));
      await visibleOrFail(editForm, 'Edit opened no [data-testid="silence-form"]');
      await editForm.locator(byTestId('silence-comment-input')).fill(`e2e maintenance ${tag}, extended`);
      await editForm.locator(byTestId('silence-save')).click();
      await editForm.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`the silence edit form stayed open: ${await shownErrors(page)}`));
      const edited = await pharos.api('GET', `/api/alertmanager/grafana/api/v2/silence/${silence.id}`);
      if (edited.comment !== `e2e maintenance ${tag}, extended` || edited.startsAt !== silence.startsAt || edited.status.state !== 'active') {
        fail(`after editing the comment the silence is ${JSON.stringify(edited)}`);
      }
      await eventually(async () => (await textOf(row.locator(byTestId('silence-comment')))).endsWith('extended'), async () => `the row's comment is ${JSON.stringify(await textOf(row.locator(byTestId('silence-comment'))))}`);

      // The filter box asks the server for silences carrying the typed matchers.
      await page.fill(byTestId('silence-filter'), `alertname=${alertName}, severity!=info`);
      await eventually(async () => (await page.locator(byTestId('silence-row')).count()) === 1 && (await row.isVisible()), async () => `filtering by its matchers lists ${await page.locator(byTestId('silence-row')).count()} rows`);
      await page.fill(byTestId('silence-filter'), `alertname=not-${alertName}`);
      await eventually(async () => (await page.locator(byTestId('silence-row')).count()) === 0, async () => `filtering by another alertname still lists ${await page.locator(byTestId('silence-row')).count()} rows`);
      await page.fill(byTestId('silence-filter'), '');
      await visibleOrFail(row, 'clearing the filter does not list the silence again');

      await row.locator(byTestId('silence-expire')).click();
      await row.locator(byTestId('silence-expire-confirm')).click();
      await eventually(async () => (await row.getAttribute('data-state').catch(() => null)) === 'expired', async () => `after Expire the row is ${await row.getAttribute('data-state').catch(() => 'gone')}: ${await shownErrors(page)}`);
      const after = await pharos.api('GET', `/api/alertmanager/grafana/api/v2/silence/${silence.id}`);
      if (after.status.state !== 'expired') fail(`the API says the silence is ${after.status.state} after Expire`);
      report(`silence ${silence.id} (${chips.join(', ')}, 90 min, by ${silence.createdBy}) active → expired`);
    },
  },
  {
    name: 'alerting notifications: an Alertmanager integration added to the contact point, its Test reaches a real Alertmanager, then deleted',
    shot: 'alerting-contact-point-alertmanager',
    async run({ page, base, pharos, report }) {
      if (!hookUid) fail('the contact point scenario did not create the contact point to add to');
      const alertmanager = await startAlertmanager();
      try {
        await page.goto(`${base}/alerting/notifications`);
        const group = page.locator(`${byTestId('cp-group')}[data-name="${hookName}"]`);
        await visibleOrFail(group, `no [data-testid="cp-group"][data-name="${hookName}"]`);
        await group.locator(byTestId('cp-add-integration')).click();
        const form = page.locator(byTestId('cp-form'));
        await visibleOrFail(form, 'Add integration opened no [data-testid="cp-form"]');
        if ((await page.locator(byTestId('cp-name')).inputValue()) !== hookName) fail('Add integration does not preset the contact point name');
        await page.selectOption(byTestId('cp-type'), 'prometheus-alertmanager');
        await page.fill(byTestId('cp-field-url'), alertmanager.url);
        await page.click(byTestId('cp-save'));
        await form.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`the integration form stayed open: ${await shownErrors(page)}`));
        const row = group.locator(`${byTestId('cp-row')}[data-type="prometheus-alertmanager"]`);
        await visibleOrFail(row, 'no Alertmanager row in the contact point after saving');
        const stored = (await contactPoints(pharos)).filter((cp) => cp.name === hookName);
        if (stored.length !== 2) fail(`the API has ${stored.length} integrations named ${hookName}, not 2`);

        await row.locator(byTestId('cp-test')).click();
        const result = row.locator(byTestId('cp-test-result'));
        await visibleOrFail(result, `Test showed no result: ${await shownErrors(page)}`, 20_000);
        if ((await result.getAttribute('data-ok')) !== 'true') fail(`Test says ${JSON.stringify(await textOf(result))}`);
        let received = [];
        await eventually(
          async () => (received = (await alertmanager.alerts()).filter((a) => a.labels?.alertname === 'TestAlert')).length > 0,
          async () => `Alertmanager lists no TestAlert: ${JSON.stringify(await alertmanager.alerts())}`,
        );
        report(`Alertmanager at ${alertmanager.url} got ${received.length} TestAlert (labels ${JSON.stringify(received[0].labels)})`);

        // Not the last integration of the name: deleting it is allowed although a policy routes there.
        await row.locator(byTestId('cp-delete')).click();
        await row.locator(byTestId('cp-delete-confirm')).click();
        await row.waitFor({ state: 'detached', timeout: 10_000 }).catch(async () => fail(`the Alertmanager row stayed after Delete: ${await shownErrors(page)}`));
        const left = (await contactPoints(pharos)).filter((cp) => cp.name === hookName);
        if (left.length !== 1 || left[0].type !== 'webhook') fail(`after Delete the API has ${JSON.stringify(left.map((cp) => cp.type))} named ${hookName}`);
        report('the Alertmanager integration deleted; the webhook one stays');
      } finally {
        await alertmanager.stop();
      }
    },
  },
  {
    name: 'alerting notifications: Reset (after confirming) brings back the default policy tree',
    shot: 'alerting-policies-reset',
    async run({ page, base, pharos, report }) {
      const before = await pharos.api('GET', '/api/v1/provisioning/policies');
      if (!before.routes?.length) fail(`there is no saved tree to reset: ${JSON.stringify(before)}`);
      await page.goto(`${base}/alerting/routes`);
      await visibleOrFail(page.locator(byTestId('policy-node')).first(), 'the saved nested policy is not shown');
      await page.click(byTestId('policy-reset'));
      await page.click(byTestId('policy-reset-confirm'));
      await eventually(async () => (await page.locator(byTestId('policy-node')).count()) === 0, 'after Reset the page still shows nested policies');
      const after = await pharos.api('GET', '/api/v1/provisioning/policies');
      if (after.routes?.length || after.receiver !== 'grafana-default-email' || after.version !== 0) fail(`after Reset the API's tree is ${JSON.stringify(after)}`);
      const receiverText = await textOf(page.locator(`${byTestId('policy-root')} ${byTestId('policy-receiver')}`));
      if (!receiverText.includes('grafana-default-email')) fail(`after Reset the default policy shows ${JSON.stringify(receiverText)}`);
      report(`tree version ${before.version} with ${before.routes.length} nested polic(ies) → the default (receiver ${after.receiver}, version ${after.version})`);
    },
  },
  {
    name: 'alerting notifications: a Viewer sees contact points, policies and silences without write controls',
    shot: 'alerting-notifications-viewer',
    async run({ browser, base, pharos, report }) {
      const login = `e2e-viewer-${tag}`;
      const password = `pw-${tag}-viewer`;
      // A new user joins the org as Viewer.
      await pharos.api('POST', '/api/admin/users', { name: 'E2E Viewer', email: `${login}@example.com`, login, password });
      const { context, page, problems } = await signedIn(browser, base, login, password);
      try {
        const writeControls = ['cp-add', 'cp-test', 'cp-edit', 'cp-delete', 'policy-save', 'policy-edit', 'policy-add-child', 'policy-reset', 'silence-add', 'silence-expire', 'silence-recreate'];
        const shown = async () => {
          const found = [];
          for (const id of writeControls) if (await page.locator(byTestId(id)).count()) found.push(id);
          return found;
        };
        await page.goto(`${base}/alerting/notifications`);
        await visibleOrFail(page.locator(`${byTestId('cp-row')}[data-name="${hookName}"]`), `the Viewer does not see ${hookName}`);
        // The role is known once the org list answers; give it the time to show controls wrongly.
        await page.waitForLoadState('networkidle');
        const onContactPoints = await shown();
        await page.goto(`${base}/alerting/routes`);
        await visibleOrFail(page.locator(byTestId('policy-root')), 'the Viewer does not see the default policy');
        await page.waitForLoadState('networkidle');
        const onPolicies = await shown();
        await page.goto(`${base}/alerting/silences`);
        await visibleOrFail(page.locator(byTestId('silence-row')).first(), 'the Viewer sees no silence');
        await page.waitForLoadState('networkidle');
        const onSilences = await shown();
        const all = [...onContactPoints, ...onPolicies, ...onSilences];
        if (all.length) fail(`a Viewer is shown write controls: ${all.join(', ')}`);
        report(`${login} (Viewer): lists shown, none of ${writeControls.length} write controls`);
      } finally {
        await context.close();
      }
      if (problems.length) fail(`console errors as ${login}: ${problems.join('; ')}`);
    },
  },
];

// Walking a whole dashboard: expand every collapsed row, then scroll from top to bottom one
// viewport at a time, waiting at each stop until every visible panel is drawn (panels query only
// once scrolled near the viewport), and add up what was seen.

import { byTestId, fail, panelsInPage, waitForVisiblePanels } from './page.mjs';

/** Clicks every collapsed row header open (each opening pushes the later rows down). Returns how many. */
export async function expandAllRows(page) {
  const collapsed = page.locator(`${byTestId('row')}[data-collapsed="true"]`);
  let opened = 0;
  for (let left = await collapsed.count(); left > 0; ) {
    const row = collapsed.first();
    const name = ((await row.textContent()) || '').trim();
    await row.scrollIntoViewIfNeeded();
    await row.click();
    const before = left;
    await page
      .waitForFunction(
        ([selector, n]) => document.querySelectorAll(selector).length < n,
        [`${byTestId('row')}[data-collapsed="true"]`, before],
        { timeout: 5_000 },
      )
      .catch(() => fail(`clicking the collapsed row "${name}" did not open it`));
    left = await collapsed.count();
    opened += 1;
  }
  return opened;
}

/**
 * Scrolls the window from top to bottom in steps of 80 % of the viewport; at each stop every
 * visible panel must become "done" and drawn, none in error (waitForVisiblePanels). Returns
 * { panels: every panel by key, with its final state, stops, inPage } — `panels` holds each panel
 * that was seen drawn at some stop.
 */
export async function scrollThroughDashboard(page) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const seen = new Map();
  let stops = 0;
  for (;;) {
    // Let the IntersectionObserver see the new position before asking which panels are visible.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const panels = await waitForVisiblePanels(page, { allowNone: true });
    stops += 1;
    for (const p of panels.filter((x) => x.visible)) seen.set(p.key, p);
    const atBottom = await page.evaluate(() => {
      const max = document.documentElement.scrollHeight - window.innerHeight;
      if (window.scrollY >= max - 1) return true;
      window.scrollBy(0, Math.round(window.innerHeight * 0.8));
      return false;
    });
    if (atBottom) break;
    if (stops > 500) fail('the dashboard did not end after 500 screens of scrolling');
  }
  const inPage = await panelsInPage(page);
  return { panels: [...seen.values()], stops, inPage };
}

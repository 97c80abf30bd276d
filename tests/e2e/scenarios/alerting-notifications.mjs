// End-to-end scenarios of the alerting pages (alerting-notifications); run.mjs runs them after its own.
// Each scenario: { name, shot, run({ page, browser, base, pharos, prometheus, node, report }), timeoutMs? }.

export const scenarios = [];

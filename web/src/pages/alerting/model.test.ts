import { describe, expect, it } from 'vitest';
import type { AlertRule, RuleStateGroup } from '../../api/alerting';
import { historyEntries } from '../../api/alerting';
import { byFolder, durationSeconds, filterGroups, formProblems, formToRule, formatValue, instanceCounts, newRuleForm, nextRefId, ruleDisplayState, ruleToForm, secondsToDuration } from './model';

/** A rule as Grafana exports it: query A, B = mean(A), C = B within (1, 5), plus fields the form does not edit. */
const stored: AlertRule = {
  uid: 'r1',
  orgID: 1,
  folderUID: 'f1',
  ruleGroup: 'g1',
  title: 'High load',
  condition: 'C',
  data: [
    { refId: 'A', relativeTimeRange: { from: 300, to: 0 }, datasourceUid: 'prom', model: { refId: 'A', expr: 'node_load1', legendFormat: '{{instance}}', datasource: { type: 'prometheus', uid: 'prom' } } },
    { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'mean', settings: { mode: 'dropNN' } } },
    { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { refId: 'C', type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'within_range', params: [1, 5] } }] } },
  ],
  noDataState: 'OK',
  execErrState: 'Alerting',
  for: '2m',
  labels: { team: 'ops' },
  annotations: { summary: 'Load is {{ $value }}', description: 'long text', runbook_url: 'http://x' },
  isPaused: false,
  version: 3,
  notification_settings: { receiver: 'pager' },
};

describe('rule form', () => {
  it('reads a stored rule into the form', () => {
    const form = ruleToForm(stored, (uid) => (uid === 'prom' ? 'prometheus' : undefined));
    expect(form.title).toBe('High load');
    expect(form.dashboardUid).toBe('');
    expect(form.queries).toHaveLength(1);
    expect(form.queries[0]).toMatchObject({ refId: 'A', datasourceUid: 'prom', datasourceType: 'prometheus', range: '5m' });
    expect(form.queries[0].model.expr).toBe('node_load1');
    expect(form.expressions.map((e) => [e.refId, e.kind])).toEqual([
      ['B', 'reduce'],
      ['C', 'threshold'],
    ]);
    expect(form.expressions[0]).toMatchObject({ input: 'A', reducer: 'mean' });
    expect(form.expressions[1]).toMatchObject({ input: 'B', evaluator: 'within_range', params: ['1', '5'] });
    expect(form.summary).toBe('Load is {{ $value }}');
    expect(form.description).toBe('long text');
    expect(form.annotations).toEqual([{ key: 'runbook_url', value: 'http://x' }]);
    expect(form.extra).toEqual({ notification_settings: { receiver: 'pager' } });
    expect(ruleToForm({ ...stored, provenance: 'api' }).provenance).toBe('api');
    expect(formToRule(ruleToForm({ ...stored, provenance: 'api' })).provenance).toBeUndefined();
  });

  it('writes the form back to the same rule (round trip keeps unknown fields and model settings)', () => {
    const back = formToRule(ruleToForm(stored, () => 'prometheus'));
    expect(back.uid).toBe('r1');
    expect(back.version).toBe(3);
    expect(back.notification_settings).toEqual({ receiver: 'pager' });
    expect(back.annotations).toEqual(stored.annotations);
    expect(back.labels).toEqual({ team: 'ops' });
    expect(back.for).toBe('2m');
    expect(back.noDataState).toBe('OK');
    expect(back.execErrState).toBe('Alerting');
    expect(back.data[0]).toEqual({ ...stored.data[0] });
    expect(back.data[1].model).toMatchObject({ type: 'reduce', expression: 'A', reducer: 'mean', settings: { mode: 'dropNN' } });
    expect(back.data[2].model.conditions).toEqual([{ evaluator: { type: 'within_range', params: [1, 5] } }]);
  });

  it('builds Grafana JSON for a new rule with a math expression and a one-parameter threshold', () => {
    const form = newRuleForm({ uid: 'prom', type: 'prometheus' }, 'f1');
    form.title = '  CPU  ';
    form.group = 'node';
    form.queries[0].model = { expr: 'up' };
    form.expressions.splice(1, 0, { ...form.expressions[0], refId: 'D', kind: 'math', math: '$B * 100' });
    form.expressions[2] = { ...form.expressions[2], input: 'D', evaluator: 'lt', params: ['50', '99'] };
    form.labels = [
      { key: 'severity', value: 'page' },
      { key: ' ', value: 'dropped' },
    ];
    const rule = formToRule(form);
    expect(rule.title).toBe('CPU');
    expect(rule.uid).toBeUndefined();
    expect(rule.condition).toBe('C');
    expect(rule.data.map((d) => d.refId)).toEqual(['A', 'B', 'D', 'C']);
    expect(rule.data[0]).toEqual({ refId: 'A', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: 'prom', model: { expr: 'up', refId: 'A', datasource: { type: 'prometheus', uid: 'prom' } } });
    expect(rule.data[2].model).toMatchObject({ type: 'math', expression: '$B * 100', datasource: { uid: '__expr__' } });
    expect(rule.data[3].model).toMatchObject({ type: 'threshold', expression: 'D', conditions: [{ evaluator: { type: 'lt', params: [50] } }] });
    expect(rule.labels).toEqual({ severity: 'page' });
    expect(rule.annotations).toEqual({});
    expect(formProblems(form)).toEqual([]);
  });

  it('links the rule to a dashboard panel through Grafana annotations', () => {
    const linked = { ...stored, annotations: { ...stored.annotations, __dashboardUid__: 'd1', __panelId__: '4' } };
    const form = ruleToForm(linked);
    expect([form.dashboardUid, form.panelId]).toEqual(['d1', '4']);
    expect(form.annotations).toEqual([{ key: 'runbook_url', value: 'http://x' }]);
    expect(formToRule(form).annotations).toEqual(linked.annotations);
    expect(formToRule({ ...form, dashboardUid: '', panelId: '' }).annotations).toEqual(stored.annotations);
    expect(formProblems({ ...form, panelId: 'four' }).join(' ')).toContain('panel ID must be a number');
    expect(formProblems({ ...form, dashboardUid: '' }).join(' ')).toContain('needs the dashboard UID');
  });

  it('keeps an expression type it does not edit as it came', () => {
    const classic = { refId: 'B', type: 'classic_conditions', conditions: [{ evaluator: { type: 'gt', params: [1] } }] };
    const rule = { ...stored, condition: 'B', data: [stored.data[0], { refId: 'B', datasourceUid: '__expr__', model: classic }] };
    const form = ruleToForm(rule);
    expect(form.expressions[0].kind).toBe('other');
    expect(formToRule(form).data[1].model).toEqual(classic);
  });

  it('names what is missing before a save', () => {
    const form = newRuleForm();
    form.expressions[1].params = ['x', ''];
    form.condition = 'Z';
    form.groupInterval = '15s';
    form.group = 'new';
    const problems = formProblems(form).join(' ');
    expect(problems).toContain('title');
    expect(problems).toContain('folder');
    expect(problems).toContain('multiple of 10 s');
    expect(problems).toContain('Query A needs a data source');
    expect(problems).toContain('threshold needs a number');
    expect(problems).toContain('condition');
    // An interval left empty keeps the group's own (or the default): nothing to check.
    expect(formProblems({ ...form, groupInterval: '' }).join(' ')).not.toContain('multiple of 10 s');
    expect(formProblems({ ...form, groupInterval: '30s' }).join(' ')).not.toContain('multiple of 10 s');
  });

  it('parses and writes durations', () => {
    expect(durationSeconds('10m')).toBe(600);
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('5m0s')).toBe(300);
    expect(durationSeconds('90')).toBe(90);
    expect(durationSeconds('ten')).toBeUndefined();
    expect(durationSeconds('')).toBeUndefined();
    expect(secondsToDuration(600)).toBe('10m');
    expect(secondsToDuration(7200)).toBe('2h');
    expect(secondsToDuration(90)).toBe('90s');
  });

  it('picks the next free refId', () => {
    expect(nextRefId(['A', 'B', 'C'])).toBe('D');
    expect(nextRefId(['B'])).toBe('A');
    expect(nextRefId(Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i)))).toBe('AA');
  });
});

const rule = (name: string, state: 'firing' | 'pending' | 'inactive', totals: Record<string, number>, labels: Record<string, string> = {}) => ({
  state,
  name,
  uid: name,
  folderUid: 'f',
  labels,
  annotations: {},
  alerts: Object.entries(totals).flatMap(([s, n]) => Array.from({ length: n }, () => ({ labels: {}, annotations: {}, state: s === 'nodata' ? 'NoData' : s[0].toUpperCase() + s.slice(1), activeAt: '', value: '' }))),
  totals,
  health: 'ok',
  lastError: '',
  isPaused: false,
  lastEvaluation: '',
});

describe('rule list', () => {
  const groups: RuleStateGroup[] = [
    { name: 'zeta', file: 'Ops', folderUid: 'f2', interval: 60, rules: [rule('Disk full', 'firing', { alerting: 1, normal: 3 }, { team: 'storage' })] },
    { name: 'alpha', file: 'Ops', folderUid: 'f2', interval: 60, rules: [rule('Load', 'pending', { pending: 2 })] },
    { name: 'g', file: 'Apps', folderUid: 'f1', interval: 10, rules: [rule('Errors', 'inactive', { normal: 1 }, { team: 'web', severity: 'page' }), rule('Quiet', 'inactive', {})] },
  ];

  it('shows the most urgent state of a rule and its instance counts', () => {
    expect(ruleDisplayState(groups[0].rules[0])).toBe('Alerting');
    expect(ruleDisplayState(groups[1].rules[0])).toBe('Pending');
    expect(ruleDisplayState(rule('x', 'firing', { nodata: 1, normal: 1 }))).toBe('NoData');
    expect(ruleDisplayState(rule('x', 'firing', { error: 1, nodata: 1 }))).toBe('Error');
    expect(ruleDisplayState(groups[2].rules[1])).toBe('Normal');
    expect(instanceCounts(groups[0].rules[0])).toEqual([
      ['Normal', 3],
      ['Alerting', 1],
    ]);
  });

  it('filters by state, words of the title or labels, and folder', () => {
    const names = (gs: RuleStateGroup[]) => gs.flatMap((g) => g.rules.map((r) => r.name));
    expect(names(filterGroups(groups, { state: 'Alerting' }))).toEqual(['Disk full']);
    // A rule with a Normal instance matches Normal too, even when it is Alerting overall.
    expect(names(filterGroups(groups, { state: 'Normal' }))).toEqual(['Disk full', 'Errors', 'Quiet']);
    expect(names(filterGroups(groups, { search: 'disk' }))).toEqual(['Disk full']);
    expect(names(filterGroups(groups, { search: 'team=web' }))).toEqual(['Errors']);
    expect(names(filterGroups(groups, { search: 'team=we' }))).toEqual([]);
    expect(names(filterGroups(groups, { search: 'page errors' }))).toEqual(['Errors']);
    expect(names(filterGroups(groups, { folderUid: 'f1' }))).toEqual(['Errors', 'Quiet']);
    expect(filterGroups(groups, { search: 'nothing' })).toEqual([]);
  });

  it('groups by folder title, then group name', () => {
    const folders = byFolder(groups);
    expect(folders.map((f) => f.title)).toEqual(['Apps', 'Ops']);
    expect(folders[1].groups.map((g) => g.name)).toEqual(['alpha', 'zeta']);
  });

  it('formats values briefly', () => {
    expect(formatValue(2)).toBe('2');
    expect(formatValue(1.23456)).toBe('1.235');
    expect(formatValue(123456.7)).toBe('1.235e+5');
    expect(formatValue(null)).toBe('–');
  });
});

describe('state history frame', () => {
  it('reads time and line columns, skipping broken rows', () => {
    const frame = {
      data: {
        values: [
          [1000, 2000],
          [{ previous: 'Normal', current: 'Pending', ruleUID: 'r', labels: { a: '1' }, values: { B: 2 } }, null],
          [{}, {}],
        ],
      },
    };
    expect(historyEntries(frame)).toEqual([{ time: 1000, ruleUID: 'r', previous: 'Normal', current: 'Pending', labels: { a: '1' }, values: { B: 2 } }]);
    expect(historyEntries(undefined)).toEqual([]);
  });
});

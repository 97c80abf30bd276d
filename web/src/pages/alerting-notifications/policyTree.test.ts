import { describe, expect, it } from 'vitest';
import type { PolicyTree } from '../../api/alertingNotifications';
import { addChildPolicy, applyPolicyForm, movePolicy, policiesByReceiver, policyAt, policyFormProblems, policyToForm, receiversOf, removePolicy, treeForSave, updatePolicy } from './policyTree';

const tree: PolicyTree = {
  receiver: 'default',
  group_by: ['grafana_folder', 'alertname'],
  version: 2,
  provenance: 'api',
  routes: [
    { receiver: 'ops', object_matchers: [['team', '=', 'ops']], continue: true, mute_time_intervals: ['weekends'] },
    { object_matchers: [['team', '=~', 'db|storage']], routes: [{ receiver: 'dba', object_matchers: [['severity', '=', 'critical']] }] },
  ],
};

describe('policy tree paths', () => {
  it('finds policies by path', () => {
    expect(policyAt(tree, [])).toBe(tree);
    expect(policyAt(tree, [1, 0])?.receiver).toBe('dba');
    expect(policyAt(tree, [5])).toBeUndefined();
  });

  it('updates, adds, removes and moves without touching the original', () => {
    const before = JSON.stringify(tree);
    const updated = updatePolicy(tree, [1, 0], (p) => ({ ...p, receiver: 'oncall' }));
    expect(policyAt(updated, [1, 0])?.receiver).toBe('oncall');
    expect(updated.routes![0]).toBe(tree.routes![0]);
    const added = addChildPolicy(tree, [0], { receiver: 'x' });
    expect(policyAt(added, [0, 0])?.receiver).toBe('x');
    const removed = removePolicy(tree, [1, 0]);
    expect(policyAt(removed, [1])?.routes).toBeUndefined();
    const moved = movePolicy(tree, [1], -1);
    expect(moved.routes!.map((r) => r.receiver)).toEqual([undefined, 'ops']);
    expect(movePolicy(tree, [0], -1)).toEqual(tree);
    expect(JSON.stringify(tree)).toBe(before);
    expect(() => removePolicy(tree, [])).toThrow();
  });
});

describe('policy form', () => {
  it('maps a nested policy to the form and back unchanged, keeping fields it does not show', () => {
    const child = tree.routes![0];
    const form = policyToForm(child);
    expect(form).toMatchObject({ receiver: 'ops', overrideGrouping: false, continueMatching: true, matchers: [{ name: 'team', operator: '=', value: 'ops' }] });
    expect(applyPolicyForm(child, form, false)).toEqual(child);
  });

  it('maps the root without matchers or continue, and empty timings mean inherit', () => {
    const form = policyToForm(tree);
    form.groupBy = 'alertname, ,cluster';
    form.groupWait = '45s';
    const root = applyPolicyForm(tree, form, true);
    expect(root.group_by).toEqual(['alertname', 'cluster']);
    expect(root.group_wait).toBe('45s');
    expect(root.routes).toBe(tree.routes);
    expect('object_matchers' in root || 'continue' in root || 'group_interval' in root).toBe(false);
  });

  it('drops blank matcher rows, trims label names and clears unset overrides', () => {
    const form = policyToForm({});
    form.matchers = [
      { name: ' severity ', operator: '!~', value: 'info|debug' },
      { name: '', operator: '=', value: '' },
    ];
    form.overrideGrouping = true;
    form.groupBy = '...';
    expect(applyPolicyForm({ group_wait: '1m' }, form, false)).toEqual({ object_matchers: [['severity', '!~', 'info|debug']], group_by: ['...'] });
  });

  it('reports bad durations, matchers and a root without receiver', () => {
    const form = policyToForm({});
    form.groupWait = '5 minutes';
    form.repeatInterval = '1h30m';
    form.matchers = [{ name: 'a', operator: '=~', value: '[' }];
    expect(policyFormProblems(form, false)).toEqual(['Group wait "5 minutes" is not a duration (e.g. 30s, 5m, 4h)', '"[" is not a regular expression']);
    expect(policyFormProblems(form, true)).toContain('The default policy needs a contact point');
  });
});

describe('saving', () => {
  it('sends the version but not the provenance', () => {
    const body = treeForSave(tree);
    expect(body.version).toBe(2);
    expect('provenance' in body).toBe(false);
  });

  it('lists the receivers the tree routes to, and how many policies name each', () => {
    expect(receiversOf(tree)).toEqual(['default', 'ops', 'dba']);
    const withRepeat = addChildPolicy(tree, [1], { receiver: 'ops' });
    expect([...policiesByReceiver(withRepeat)]).toEqual([
      ['default', 1],
      ['ops', 2],
      ['dba', 1],
    ]);
  });
});

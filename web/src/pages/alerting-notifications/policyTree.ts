// The notification policy tree as the page edits it: policies addressed by their path of child
// indexes from the root ([] is the default policy, [1, 0] the first child of the second child),
// each edited through a flat form. Fields the page has no control for (mute_time_intervals,
// active_time_intervals, …) stay on the policy objects and go back with the PUT.
import type { Policy, PolicyTree } from '../../api/alertingNotifications';
import { fromObjectMatcher, isBlankMatcher, matcherProblem, toObjectMatcher, type Matcher } from './matchers';

export type PolicyPath = readonly number[];

export function policyAt(tree: Policy, path: PolicyPath): Policy | undefined {
  let node: Policy | undefined = tree;
  for (const i of path) node = node?.routes?.[i];
  return node;
}

/** A copy of the tree with the policy at `path` replaced by `change(policy)`. */
export function updatePolicy<T extends Policy>(tree: T, path: PolicyPath, change: (p: Policy) => Policy): T {
  if (path.length === 0) return change(tree) as T;
  const [first, ...rest] = path;
  const routes = [...(tree.routes ?? [])];
  if (!routes[first]) throw new Error(`no policy at ${path.join('.')}`);
  routes[first] = updatePolicy(routes[first], rest, change);
  return { ...tree, routes };
}

export function addChildPolicy<T extends Policy>(tree: T, parent: PolicyPath, child: Policy): T {
  return updatePolicy(tree, parent, (p) => ({ ...p, routes: [...(p.routes ?? []), child] }));
}

export function removePolicy<T extends Policy>(tree: T, path: PolicyPath): T {
  if (path.length === 0) throw new Error('the default policy cannot be removed');
  const parent = path.slice(0, -1);
  const index = path[path.length - 1];
  return updatePolicy(tree, parent, (p) => {
    const routes = (p.routes ?? []).filter((_, i) => i !== index);
    const next: Policy = { ...p, routes };
    if (routes.length === 0) delete next.routes;
    return next;
  });
}

/** Moves a child up (-1) or down (+1) among its siblings: order decides which policy matches first. */
export function movePolicy<T extends Policy>(tree: T, path: PolicyPath, by: -1 | 1): T {
  if (path.length === 0) return tree;
  const parent = path.slice(0, -1);
  const index = path[path.length - 1];
  return updatePolicy(tree, parent, (p) => {
    const routes = [...(p.routes ?? [])];
    const target = index + by;
    if (target < 0 || target >= routes.length) return p;
    [routes[index], routes[target]] = [routes[target], routes[index]];
    return { ...p, routes };
  });
}

/** One policy's own settings, as text fields: empty means "inherit from the parent". */
export interface PolicyForm {
  receiver: string;
  /** Comma separated; `...` groups by every label. */
  groupBy: string;
  /** Whether this policy sets its own group_by (a child inherits its parent's otherwise). */
  overrideGrouping: boolean;
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
  matchers: Matcher[];
  continueMatching: boolean;
}

export function policyToForm(p: Policy): PolicyForm {
  return {
    receiver: p.receiver ?? '',
    groupBy: (p.group_by ?? []).join(', '),
    overrideGrouping: p.group_by !== undefined && p.group_by !== null,
    groupWait: p.group_wait ?? '',
    groupInterval: p.group_interval ?? '',
    repeatInterval: p.repeat_interval ?? '',
    matchers: (p.object_matchers ?? []).map(fromObjectMatcher),
    continueMatching: !!p.continue,
  };
}

export function splitGroupBy(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Applies the form to `p`, keeping its children and the fields the form does not show. */
export function applyPolicyForm(p: Policy, form: PolicyForm, isRoot: boolean): Policy {
  const next: Policy = { ...p };
  const set = <K extends keyof Policy>(key: K, value: Policy[K] | undefined) => {
    if (value === undefined) delete next[key];
    else next[key] = value;
  };
  set('receiver', form.receiver.trim() || undefined);
  set('group_by', isRoot || form.overrideGrouping ? splitGroupBy(form.groupBy) : undefined);
  set('group_wait', form.groupWait.trim() || undefined);
  set('group_interval', form.groupInterval.trim() || undefined);
  set('repeat_interval', form.repeatInterval.trim() || undefined);
  if (isRoot) {
    // The default policy matches everything and has nothing to continue to.
    delete next.object_matchers;
    delete next.continue;
  } else {
    const matchers = form.matchers.filter((m) => !isBlankMatcher(m)).map((m) => toObjectMatcher({ ...m, name: m.name.trim() }));
    set('object_matchers', matchers.length ? matchers : undefined);
    set('continue', form.continueMatching || undefined);
  }
  return next;
}

/** Prometheus-style durations as the server takes them (`30s`, `5m`, `1h30m`, `4h`). */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

export function policyFormProblems(form: PolicyForm, isRoot: boolean): string[] {
  const problems: string[] = [];
  if (isRoot && !form.receiver.trim()) problems.push('The default policy needs a contact point');
  for (const [label, value] of [
    ['Group wait', form.groupWait],
    ['Group interval', form.groupInterval],
    ['Repeat interval', form.repeatInterval],
  ] as const) {
    if (value.trim() && !DURATION.test(value.trim())) problems.push(`${label} "${value}" is not a duration (e.g. 30s, 5m, 4h)`);
  }
  if (!isRoot) {
    for (const m of form.matchers) {
      if (isBlankMatcher(m)) continue;
      const problem = matcherProblem(m);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** The tree to PUT: the answer's `provenance` is the server's to set; `version` guards the write. */
export function treeForSave(tree: PolicyTree): PolicyTree {
  const copy = { ...tree };
  delete copy.provenance;
  return copy;
}

/** The receivers a tree routes to, root first (for warnings about contact points that are gone). */
export function receiversOf(tree: Policy): string[] {
  const out: string[] = [];
  const walk = (p: Policy) => {
    if (p.receiver && !out.includes(p.receiver)) out.push(p.receiver);
    p.routes?.forEach(walk);
  };
  walk(tree);
  return out;
}

/** How many policies name each receiver (inherited receivers are not counted: Grafana's "used by"). */
export function policiesByReceiver(tree: Policy): Map<string, number> {
  const counts = new Map<string, number>();
  const walk = (p: Policy) => {
    if (p.receiver) counts.set(p.receiver, (counts.get(p.receiver) ?? 0) + 1);
    p.routes?.forEach(walk);
  };
  walk(tree);
  return counts;
}

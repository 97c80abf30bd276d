import { describe, expect, it } from 'vitest';
import { describeChange, diffDashboards, diffSequences, jsonChanges, lineDiff, prettyJson, type EditOp } from './diff';
// The 223 KB node-exporter-full dashboard (about 8,000 lines pretty-printed). Vite's `?raw` import
// fails the test file when the fixture is missing, which is what we want: it must be there.
import nodeExporterFull from '../../../../shared/fixtures/dashboards/node-exporter-full.json?raw';

/** Applies an edit script to `a`, checking it is consistent, and returns the result. */
function apply<T>(a: readonly T[], b: readonly T[], ops: EditOp[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  for (const op of ops) {
    if (op.op === 'equal') {
      expect(op.aIndex).toBe(i++);
      expect(op.bIndex).toBe(j++);
      expect(a[op.aIndex]).toBe(b[op.bIndex]);
      out.push(a[op.aIndex]);
    } else if (op.op === 'remove') {
      expect(op.aIndex).toBe(i++);
    } else {
      expect(op.bIndex).toBe(j++);
      out.push(b[op.bIndex]);
    }
  }
  expect(i).toBe(a.length);
  expect(j).toBe(b.length);
  return out;
}

/** Length of the longest common subsequence, by dynamic programming: the reference for minimality. */
function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(row[j], row[j - 1]);
      diag = up;
    }
  }
  return row[b.length];
}

describe('diffSequences', () => {
  it('handles empty, equal and disjoint sequences', () => {
    expect(diffSequences([], [])).toEqual([]);
    expect(diffSequences(['a'], ['a'])).toEqual([{ op: 'equal', aIndex: 0, bIndex: 0 }]);
    expect(diffSequences(['a'], [])).toEqual([{ op: 'remove', aIndex: 0 }]);
    expect(diffSequences([], ['b'])).toEqual([{ op: 'add', bIndex: 0 }]);
    const ops = diffSequences(['a', 'b'], ['c', 'd']);
    expect(apply(['a', 'b'], ['c', 'd'], ops)).toEqual(['c', 'd']);
    expect(ops.filter((o) => o.op === 'equal')).toHaveLength(0);
  });

  it('finds a shortest edit script (random sequences checked against an LCS)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const a = Array.from({ length: Math.floor(random() * 20) }, () => 'abcd'[Math.floor(random() * 4)]);
      const b = Array.from({ length: Math.floor(random() * 20) }, () => 'abcd'[Math.floor(random() * 4)]);
      const ops = diffSequences(a, b);
      expect(apply(a, b, ops)).toEqual(b);
      expect(ops.filter((o) => o.op === 'equal')).toHaveLength(lcsLength(a, b));
    }
  });
});

describe('jsonChanges', () => {
  it('names changed, added and removed keys by path', () => {
    const before = { title: 'A', panels: [{ id: 1, title: 'x' }, { id: 2, title: 'A' }, { id: 3, title: 'A' }], tags: ['a'], 'odd-key': 1 };
    const after = { title: 'A', panels: [{ id: 1, title: 'x' }, { id: 2, title: 'A' }, { id: 3, title: 'B' }], tags: ['a'], refresh: '5s' };
    expect(jsonChanges(before, after).map(describeChange)).toEqual(['panels[2].title: "A" → "B"', '["odd-key"]: removed 1', 'refresh: added "5s"']);
  });

  it('reports an inserted array item as one addition, not a change to every later item', () => {
    const before = { panels: [{ id: 1 }, { id: 2 }, { id: 3 }] };
    const after = { panels: [{ id: 9 }, { id: 1 }, { id: 2 }, { id: 3 }] };
    expect(jsonChanges(before, after)).toEqual([{ path: 'panels[0]', kind: 'added', after: { id: 9 } }]);
    expect(jsonChanges(after, before)).toEqual([{ path: 'panels[0]', kind: 'removed', before: { id: 9 } }]);
  });

  it('compares a replaced item field by field', () => {
    const before = { tags: ['a', 'b', 'c'] };
    const after = { tags: ['a', 'x'] };
    expect(jsonChanges(before, after).map(describeChange)).toEqual(['tags[1]: "b" → "x"', 'tags[2]: removed "c"']);
  });

  it('reports a type change as a change, and nothing for equal values', () => {
    expect(jsonChanges({ a: { b: 1 } }, { a: [1] })).toEqual([{ path: 'a', kind: 'changed', before: { b: 1 }, after: [1] }]);
    expect(jsonChanges({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
    expect(jsonChanges(1, 2)).toEqual([{ path: '(root)', kind: 'changed', before: 1, after: 2 }]);
  });
});

describe('lineDiff', () => {
  it('produces unified hunks with context and line numbers', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n');
    const after = ['1', '2', '3', '4', 'five', '6', '7', '8', '9', '10', '11'].join('\n');
    const diff = lineDiff(before, after, 1);
    expect(diff.added).toBe(2);
    expect(diff.removed).toBe(1);
    expect(diff.hunks.map((h) => h.header)).toEqual(['@@ -4,3 +4,3 @@', '@@ -10,1 +10,2 @@']);
    expect(diff.hunks[0].lines).toEqual([
      { kind: 'context', text: '4', oldLine: 4, newLine: 4 },
      { kind: 'remove', text: '5', oldLine: 5 },
      { kind: 'add', text: 'five', newLine: 5 },
      { kind: 'context', text: '6', oldLine: 6, newLine: 6 },
    ]);
  });

  it('has no hunks for equal texts', () => {
    expect(lineDiff('a\nb', 'a\nb')).toEqual({ hunks: [], added: 0, removed: 0 });
  });

  it('still diffs texts too different for the shortest script (wholesale replacement)', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const after = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const diff = lineDiff(before, after);
    expect(diff.removed).toBe(3000);
    expect(diff.added).toBe(3000);
  });
});

describe('diffDashboards on node-exporter-full', () => {
  it('finds a one-line change in the 8,000-line dashboard in well under a second', () => {
    const saved = JSON.parse(nodeExporterFull) as { panels: { title?: string }[] };
    expect(prettyJson(saved).split('\n').length).toBeGreaterThan(7000);
    const working = structuredClone(saved);
    const before = working.panels[2].title;
    working.panels[2].title = 'Changed title';

    const started = performance.now();
    const { changes, lines } = diffDashboards(saved, working);
    const elapsed = performance.now() - started;

    expect(changes).toEqual([{ path: 'panels[2].title', kind: 'changed', before, after: 'Changed title' }]);
    expect(lines.added).toBe(1);
    expect(lines.removed).toBe(1);
    expect(lines.hunks).toHaveLength(1);
    expect(elapsed).toBeLessThan(500);
  });
});

// Differences between two dashboard JSONs, for the save dialog's "Changes" and the version history's
// compare: a list of changes by path (`panels[2].title: "A" → "B"`) and a unified line diff of the
// pretty-printed JSON. Both rest on one sequence diff (Myers' greedy algorithm), written here so the UI
// needs no diff dependency.

/** One step of an edit script: keep a[aIndex] (= b[bIndex]), remove a[aIndex] or add b[bIndex]. */
export type EditOp = { op: 'equal'; aIndex: number; bIndex: number } | { op: 'remove'; aIndex: number } | { op: 'add'; bIndex: number };

/**
 * Past this many differences the shortest edit script costs too much time and memory (O(D²)); the
 * differing middle is then shown as removed and added wholesale. A one-line edit has D = 2.
 */
const MAX_EDIT_DISTANCE = 2000;

/**
 * The edit script turning `a` into `b`: shortest (Myers) when the sequences differ in at most
 * MAX_EDIT_DISTANCE items, else correct but not minimal. The common prefix and suffix are trimmed
 * first, so a small change in a long text costs little more than a scan.
 */
export function diffSequences<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean = Object.is): EditOp[] {
  let start = 0;
  while (start < a.length && start < b.length && equal(a[start], b[start])) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && equal(a[endA - 1], b[endB - 1])) {
    endA--;
    endB--;
  }

  const ops: EditOp[] = [];
  for (let i = 0; i < start; i++) ops.push({ op: 'equal', aIndex: i, bIndex: i });
  const middle = myers(a, b, start, endA, start, endB, equal);
  if (middle) ops.push(...middle);
  else {
    for (let i = start; i < endA; i++) ops.push({ op: 'remove', aIndex: i });
    for (let j = start; j < endB; j++) ops.push({ op: 'add', bIndex: j });
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) ops.push({ op: 'equal', aIndex: i, bIndex: j });
  return ops;
}

/**
 * Myers' O((N+M)·D) greedy diff of a[a0..a1) and b[b0..b1), or undefined when D exceeds the limit.
 * For each distance d it records the furthest x reached on every diagonal k = x - y, then walks the
 * recorded frontiers back from the end to recover the path.
 */
function myers<T>(a: readonly T[], b: readonly T[], a0: number, a1: number, b0: number, b1: number, equal: (x: T, y: T) => boolean): EditOp[] | undefined {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 || m === 0) {
    const ops: EditOp[] = [];
    for (let i = a0; i < a1; i++) ops.push({ op: 'remove', aIndex: i });
    for (let j = b0; j < b1; j++) ops.push({ op: 'add', bIndex: j });
    return ops;
  }
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds the frontier before step d, for diagonals -d..d (only those can be reached).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      // Step down (an addition) from diagonal k+1 or right (a removal) from k-1, whichever got further.
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && equal(a[a0 + x], b[b0 + y])) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, n, m, a0, b0);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], dEnd: number, n: number, m: number, a0: number, b0: number): EditOp[] {
  const ops: EditOp[] = [];
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const frontier = trace[d];
    // frontier index of diagonal k is k + d + 1 (it covers -d-1..d+1).
    const at = (k: number) => frontier[k + d + 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    // The snake (equal items) after the step.
    const stepX = down ? prevX : prevX + 1;
    while (x > stepX) {
      x--;
      y--;
      ops.push({ op: 'equal', aIndex: a0 + x, bIndex: b0 + y });
    }
    if (down) ops.push({ op: 'add', bIndex: b0 + prevY });
    else ops.push({ op: 'remove', aIndex: a0 + prevX });
    x = prevX;
    y = prevY;
  }
  while (x > 0) {
    x--;
    y--;
    ops.push({ op: 'equal', aIndex: a0 + x, bIndex: b0 + y });
  }
  return ops.reverse();
}

// ---------------------------------------------------------------------------------------------
// Changes by path.

export interface JsonChange {
  /** Where, as a JavaScript accessor from the root: `panels[2].title`, `templating.list[0]`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keyPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every difference between `before` and `after`, deepest first where both sides are objects or arrays.
 * Array items are matched by content (an inserted panel is one "added" item, not a change to every
 * later index); items left unmatched at the same place are compared field by field.
 */
export function jsonChanges(before: unknown, after: unknown): JsonChange[] {
  const changes: JsonChange[] = [];
  compareValues(before, after, '', changes);
  return changes;
}

function compareValues(a: unknown, b: unknown, path: string, out: JsonChange[]) {
  if (a === b) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      const p = keyPath(path, key);
      if (!(key in b)) out.push({ path: p, kind: 'removed', before: a[key] });
      else compareValues(a[key], b[key], p, out);
    }
    for (const key of Object.keys(b)) {
      if (!(key in a)) out.push({ path: keyPath(path, key), kind: 'added', after: b[key] });
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    compareArrays(a, b, path, out);
    return;
  }
  if (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b)) return;
  out.push({ path: path || '(root)', kind: 'changed', before: a, after: b });
}

function compareArrays(a: readonly unknown[], b: readonly unknown[], path: string, out: JsonChange[]) {
  const item = (i: number) => `${path}[${i}]`;
  // Same length: most edits change items in place; compare index by index (panels[2].title).
  if (a.length === b.length) {
    a.forEach((x, i) => compareValues(x, b[i], item(i), out));
    return;
  }
  const keyA = a.map((x) => JSON.stringify(x));
  const keyB = b.map((x) => JSON.stringify(x));
  const ops = diffSequences(keyA, keyB);
  // A run of removals followed by additions at one place is a replacement: pair them up.
  for (let i = 0; i < ops.length; ) {
    if (ops[i].op === 'equal') {
      i++;
      continue;
    }
    const removed: number[] = [];
    const added: number[] = [];
    for (; i < ops.length && ops[i].op !== 'equal'; i++) {
      const op = ops[i];
      if (op.op === 'remove') removed.push(op.aIndex);
      else if (op.op === 'add') added.push(op.bIndex);
    }
    const paired = Math.min(removed.length, added.length);
    for (let p = 0; p < paired; p++) compareValues(a[removed[p]], b[added[p]], item(added[p]), out);
    for (const r of removed.slice(paired)) out.push({ path: item(r), kind: 'removed', before: a[r] });
    for (const n of added.slice(paired)) out.push({ path: item(n), kind: 'added', after: b[n] });
  }
}

/** A value shortened for one line of the change list. */
export function previewValue(value: unknown, max = 60): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `panels[2].title: "A" → "B"`, `tags[1]: added "prod"`. */
export function describeChange(change: JsonChange): string {
  switch (change.kind) {
    case 'added':
      return `${change.path}: added ${previewValue(change.after)}`;
    case 'removed':
      return `${change.path}: removed ${previewValue(change.before)}`;
    default:
      return `${change.path}: ${previewValue(change.before)} → ${previewValue(change.after)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Unified line diff.

export interface DiffLine {
  kind: 'context' | 'add' | 'remove';
  text: string;
  /** 1-based line numbers in the old and new text (absent on the side the line is not in). */
  oldLine?: number;
  newLine?: number;
}

export interface DiffHunk {
  /** `@@ -oldStart,oldCount +newStart,newCount @@` as in a unified diff. */
  header: string;
  lines: DiffLine[];
}

export interface LineDiff {
  hunks: DiffHunk[];
  added: number;
  removed: number;
}

/** The JSON as the diff shows it (and the JSON model page edits it): two-space indentation. */
export const prettyJson = (value: unknown) => JSON.stringify(value, null, 2) ?? 'undefined';

/** A unified diff of two texts by line, with `context` unchanged lines around each change. */
export function lineDiff(before: string, after: string, context = 3): LineDiff {
  const a = before.split('\n');
  const b = after.split('\n');
  const ops = diffSequences(a, b);
  const lines: DiffLine[] = ops.map((op) => {
    if (op.op === 'equal') return { kind: 'context', text: a[op.aIndex], oldLine: op.aIndex + 1, newLine: op.bIndex + 1 };
    if (op.op === 'remove') return { kind: 'remove', text: a[op.aIndex], oldLine: op.aIndex + 1 };
    return { kind: 'add', text: b[op.bIndex], newLine: op.bIndex + 1 };
  });

  // Keep the changed lines and `context` lines either side; runs closer than 2·context merge.
  const keep = new Uint8Array(lines.length);
  lines.forEach((l, i) => {
    if (l.kind === 'context') return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) keep[j] = 1;
  });
  const hunks: DiffHunk[] = [];
  let added = 0;
  let removed = 0;
  for (let i = 0; i < lines.length; ) {
    if (!keep[i]) {
      i++;
      continue;
    }
    const hunk: DiffLine[] = [];
    for (; i < lines.length && keep[i]; i++) {
      hunk.push(lines[i]);
      if (lines[i].kind === 'add') added++;
      if (lines[i].kind === 'remove') removed++;
    }
    hunks.push({ header: hunkHeader(hunk, lines, i - hunk.length), lines: hunk });
  }
  return { hunks, added, removed };
}

function hunkHeader(hunk: DiffLine[], all: DiffLine[], startIndex: number): string {
  const oldCount = hunk.filter((l) => l.kind !== 'add').length;
  const newCount = hunk.filter((l) => l.kind !== 'remove').length;
  // Where the hunk starts on each side: its first numbered line, or just after the line before it.
  const startOf = (side: 'oldLine' | 'newLine') => {
    const first = hunk.find((l) => l[side] !== undefined)?.[side];
    if (first !== undefined) return first;
    for (let i = startIndex - 1; i >= 0; i--) if (all[i][side] !== undefined) return all[i][side]!;
    return 0;
  };
  return `@@ -${startOf('oldLine')},${oldCount} +${startOf('newLine')},${newCount} @@`;
}

/** Both views of the difference between two dashboards. */
export function diffDashboards(before: unknown, after: unknown): { changes: JsonChange[]; lines: LineDiff } {
  return { changes: jsonChanges(before, after), lines: lineDiff(prettyJson(before), prettyJson(after)) };
}

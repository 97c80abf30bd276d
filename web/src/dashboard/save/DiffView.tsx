import { useMemo, useState } from 'react';
import { describeChange, diffDashboards, type DiffLine } from '../diff';
import './save.css';

interface Props {
  before: unknown;
  after: unknown;
  testId?: string;
  /** Labels of the two sides in the summary ("saved" / "working copy", "version 3" / "version 5"). */
  beforeLabel?: string;
  afterLabel?: string;
}

/** Change lists and line diffs longer than these are cut, with a button to show the rest. */
const MAX_CHANGES = 200;
const MAX_LINES = 2000;

/** The difference between two dashboards: the changes by path, then the unified JSON diff. */
export function DiffView({ before, after, testId, beforeLabel = 'before', afterLabel = 'after' }: Props) {
  const diff = useMemo(() => diffDashboards(before, after), [before, after]);
  const [showAll, setShowAll] = useState(false);

  if (diff.changes.length === 0 && diff.lines.hunks.length === 0) {
    return (
      <div className="diff-view" data-testid={testId} data-changes="0">
        <p className="diff-empty">No changes between {beforeLabel} and {afterLabel}.</p>
      </div>
    );
  }

  const changes = showAll ? diff.changes : diff.changes.slice(0, MAX_CHANGES);
  let budget = showAll ? Infinity : MAX_LINES;
  const hunks = [];
  for (const hunk of diff.lines.hunks) {
    if (budget <= 0) break;
    hunks.push(hunk.lines.length <= budget ? hunk : { ...hunk, lines: hunk.lines.slice(0, budget) });
    budget -= hunk.lines.length;
  }
  const cut = !showAll && (diff.changes.length > MAX_CHANGES || budget < 0 || hunks.length < diff.lines.hunks.length);

  return (
    <div className="diff-view" data-testid={testId} data-changes={diff.changes.length}>
      <p className="diff-summary">
        {diff.changes.length} {diff.changes.length === 1 ? 'change' : 'changes'} from {beforeLabel} to {afterLabel}:{' '}
        <span className="diff-count-add">+{diff.lines.added}</span> <span className="diff-count-remove">−{diff.lines.removed}</span> lines
      </p>
      <ul className="diff-changes">
        {changes.map((c, i) => (
          <li key={i} className={`diff-change ${c.kind}`}>
            {describeChange(c)}
          </li>
        ))}
      </ul>
      <div className="diff-lines" role="table" aria-label="JSON diff">
        {hunks.map((hunk, h) => (
          <div key={h} role="rowgroup">
            <div className="diff-hunk-header" role="row">
              {hunk.header}
            </div>
            {hunk.lines.map((line, i) => (
              <DiffRow key={i} line={line} />
            ))}
          </div>
        ))}
      </div>
      {cut && (
        <button type="button" className="button" onClick={() => setShowAll(true)}>
          Show the whole diff
        </button>
      )}
    </div>
  );
}

const SIGN = { context: ' ', add: '+', remove: '-' } as const;

function DiffRow({ line }: { line: DiffLine }) {
  return (
    <div className={`diff-line ${line.kind}`} role="row" data-kind={line.kind}>
      <span className="diff-num">{line.oldLine ?? ''}</span>
      <span className="diff-num">{line.newLine ?? ''}</span>
      <span className="diff-text">
        {SIGN[line.kind]} {line.text}
      </span>
    </div>
  );
}

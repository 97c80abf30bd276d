// For a datasource type without an editor of its own: the target as JSON.

import { useState } from 'react';
import { formatTarget, parseTarget } from './rawTarget';
import type { QueryEditorProps } from './types';

export function RawQueryEditor({ datasource, query, onChange, onRunQuery }: QueryEditorProps) {
  const formatted = formatTarget(query);
  const [draft, setDraft] = useState(formatted);
  const [shown, setShown] = useState(formatted);
  const [error, setError] = useState<string>();
  if (formatted !== shown) {
    setShown(formatted);
    setDraft(formatted);
    setError(undefined);
  }
  /** Hands the text over when it is a JSON object; otherwise shows why and changes nothing. */
  const commit = (run: boolean) => {
    const parsed = parseTarget(draft, query);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    if (JSON.stringify(parsed.target) !== JSON.stringify(query)) onChange(parsed.target);
    if (run) onRunQuery();
  };
  return (
    <>
      <p className="qe-hint">
        Pharos has no query editor for <code>{datasource.type || 'this datasource'}</code>; edit the query as JSON (Shift+Enter to run).
      </p>
      <textarea
        className="qe-code"
        data-testid="query-json"
        aria-label="Query as JSON"
        aria-invalid={error ? true : undefined}
        rows={Math.min(16, Math.max(4, draft.split('\n').length))}
        spellCheck={false}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => commit(false)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && e.shiftKey) {
            e.preventDefault();
            commit(true);
          }
        }}
      />
      {error && (
        <p className="qe-problem" role="alert" data-testid="query-json-error">
          {error}
        </p>
      )}
    </>
  );
}

// Small form controls shared by the query editors.

import { useId, useState, type ReactNode } from 'react';

export function Field({ label, children, wide }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <label className={wide ? 'qe-field qe-wide' : 'qe-field'}>
      <span className="qe-label">{label}</span>
      {children}
    </label>
  );
}

interface DraftInputProps {
  value: string;
  /** The new text, on blur or Enter, when it changed. */
  onCommit: (value: string) => void;
  /** Why the text cannot be used (shown, and then not committed), or undefined. */
  check?: (value: string) => string | undefined;
  /** Shown but still committed (the server may know better). */
  warn?: (value: string) => string | undefined;
  testId?: string;
  placeholder?: string;
  width?: string;
  list?: string;
  onFocus?: () => void;
  'aria-label'?: string;
}

/**
 * A text input that edits a draft and hands it over on blur or Enter, so half-typed values ("1.",
 * "{{ins") are neither parsed nor sent as queries on every key.
 */
export function DraftInput({ value, onCommit, check, warn, testId, placeholder, width, list, onFocus, ...aria }: DraftInputProps) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  // The value changed from outside (another editor, undo): show it.
  if (value !== shown) {
    setShown(value);
    setDraft(value);
  }
  const problem = check?.(draft) ?? warn?.(draft);
  const commit = () => {
    if (draft !== value && !check?.(draft)) onCommit(draft);
  };
  const errorId = useId();
  return (
    <span className="qe-input">
      <input
        data-testid={testId}
        value={draft}
        placeholder={placeholder}
        style={width ? { width } : undefined}
        list={list}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? errorId : undefined}
        aria-label={aria['aria-label']}
        onFocus={onFocus}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            commit();
          }
        }}
      />
      {problem && (
        <span id={errorId} className="qe-problem" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}

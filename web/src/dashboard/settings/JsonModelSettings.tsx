import { useMemo, useState } from 'react';
import { prettyJson } from '../diff';
import { useDashboardEditor } from '../editor';
import { parseJsonModel } from './generalModel';

/** JSON Model: the working copy as JSON, editable; "Save changes" applies valid JSON to the working copy. */
export function JsonModelSettings() {
  const { dashboard, update } = useDashboardEditor();
  const current = useMemo(() => prettyJson(dashboard), [dashboard]);
  // undefined while untouched: the text follows the working copy until the user edits it.
  const [edited, setEdited] = useState<string>();
  const [error, setError] = useState<string>();
  const [copied, setCopied] = useState(false);
  const text = edited ?? current;

  const apply = () => {
    const parsed = parseJsonModel(text, dashboard);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    update(() => parsed.dashboard);
    setEdited(undefined);
  };

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setError('The browser did not allow copying; select the text and copy it instead.');
    }
  };

  return (
    <div className="settings-form wide json-model">
      <h2>JSON Model</h2>
      <p className="settings-hint">The JSON model of the dashboard. “Save changes” applies it to the dashboard; save the dashboard to keep it.</p>
      <textarea
        className="mono json-model-text"
        data-testid="json-model"
        spellCheck={false}
        value={text}
        aria-invalid={!!error}
        onChange={(e) => {
          setEdited(e.target.value);
          setError(undefined);
        }}
      />
      {error && (
        <p className="form-error" role="alert" data-testid="json-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button primary" data-testid="json-apply" disabled={edited === undefined} onClick={apply}>
          Save changes
        </button>
        <button type="button" className="button" data-testid="json-copy" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        {edited !== undefined && (
          <button type="button" className="button ghost" onClick={() => (setEdited(undefined), setError(undefined))}>
            Undo edits
          </button>
        )}
      </div>
    </div>
  );
}

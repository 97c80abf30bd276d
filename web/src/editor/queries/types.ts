// The contract between the panel editor and the query editors (one editor per target, Grafana's
// "query row").

/** One Grafana target, e.g. `{refId: 'A', expr: 'up', legendFormat: ''}`; unknown keys are kept. */
export type Target = Record<string, unknown>;

export interface QueryEditorProps {
  /** `type`: `prometheus`, `influxdb`, `grafana-testdata-datasource` (or legacy `testdata`), else any. */
  datasource: { uid: string; type: string };
  query: Target;
  /** Called with the whole new target: every key of `query` the editor does not edit is kept. */
  onChange: (query: Target) => void;
  /** Run the panel's queries now. Called right after `onChange` when an edit should run at once. */
  onRunQuery: () => void;
}

/** A target's string field, or `fallback` when missing or not a string. */
export function text(target: Target, key: string, fallback = ''): string {
  const value = target[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}

/** `target` with `key` set, or removed when `value` is undefined (so "cleared" leaves no trace). */
export function withKey(target: Target, key: string, value: unknown): Target {
  const next = { ...target };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

// Reading and writing a panel's options by dotted path (`fieldConfig.defaults.unit`,
// `options.legend.displayMode`), without mutating the panel: each edit in the options pane is
// one `setOption` on the working copy.

import type { PanelModel } from '../../dashboard/model';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at `path` (dot-separated keys), or undefined when any step is missing. */
export function getOption(panel: PanelModel, path: string): unknown {
  let current: unknown = panel;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function setIn(object: Json, keys: readonly string[], value: unknown): Json {
  const [key, ...rest] = keys;
  const next = { ...object };
  if (rest.length === 0) {
    // "Cleared" leaves no key behind, as Grafana omits unset options from the JSON.
    if (value === undefined) delete next[key];
    else next[key] = value;
    return next;
  }
  const child = isObject(object[key]) ? object[key] : {};
  const updated = setIn(child, rest, value);
  // Removing the last key of an object we only created on the way leaves nothing behind either.
  if (value === undefined && Object.keys(updated).length === 0 && !isObject(object[key])) return next;
  next[key] = updated;
  return next;
}

/**
 * A copy of `panel` with `value` at `path`; intermediate objects are created (or copied) as needed.
 * `undefined` removes the key.
 */
export function setOption(panel: PanelModel, path: string, value: unknown): PanelModel {
  if (path === '') throw new Error('setOption needs a path');
  return setIn(panel as Json, path.split('.'), value) as PanelModel;
}

/** A number input's text as an option value: empty clears it, anything unreadable too. */
export function numberOption(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A text input's value as an option: empty clears it. */
export function textOption(text: string): string | undefined {
  return text === '' ? undefined : text;
}

// The folder chosen in the settings for a dashboard, waiting for the next save (the move happens on
// save, as in Grafana). The editor's working copy is the dashboard JSON, which has no folder, so the
// choice is kept here for the save dialog to send as `folderUid`.
//
// It is keyed by the editor's `meta` object, which the editor replaces when it loads, saves or
// reloads the dashboard: a choice never outlives the loaded dashboard it was made for (leaving the
// page, a reload after a conflict and a successful save all forget it).
import { useSyncExternalStore } from 'react';

const choices = new WeakMap<object, string>();
const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Sets (or with `undefined` clears) the folder the dashboard moves to on the next save ('' = General). */
export function setFolderChoice(meta: object, folderUid: string | undefined) {
  if (folderUid === undefined) choices.delete(meta);
  else choices.set(meta, folderUid);
  listeners.forEach((l) => l());
}

/** The pending folder, or undefined when the dashboard stays where it is. */
export function useFolderChoice(meta: object): string | undefined {
  return useSyncExternalStore(subscribe, () => choices.get(meta));
}

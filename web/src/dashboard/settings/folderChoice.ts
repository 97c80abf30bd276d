// The folder chosen in the settings for a dashboard, waiting for the next save (the move happens on
// save, as in Grafana). The editor's working copy is the dashboard JSON, which has no folder, so the
// choice is kept here, by dashboard uid, for the save dialog to send as `folderUid`.
import { useSyncExternalStore } from 'react';

const choices = new Map<string, string>();
const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Sets (or with `undefined` clears) the folder `dashboardUid` moves to on the next save ('' = General). */
export function setFolderChoice(dashboardUid: string, folderUid: string | undefined) {
  if (folderUid === undefined) choices.delete(dashboardUid);
  else choices.set(dashboardUid, folderUid);
  listeners.forEach((l) => l());
}

/** The pending folder of `dashboardUid`, or undefined when it stays where it is. */
export function useFolderChoice(dashboardUid: string): string | undefined {
  return useSyncExternalStore(subscribe, () => choices.get(dashboardUid));
}

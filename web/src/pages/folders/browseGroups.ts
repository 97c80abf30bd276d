// How the browse page groups its search results: one group per folder, the top level
// ("Dashboards", Grafana's General) first, and folders without dashboards listed too.

import type { FolderSummary } from '../../api/folders';
import type { SearchHit } from '../../api/dashboards';

export interface FolderGroup {
  uid: string;
  title: string;
  items: SearchHit[];
}

export const GENERAL_UID = 'general';

/**
 * `folders` adds the folders that have no matching dashboards; pass it only when no filter is
 * active, or every empty folder would show up under a search that found nothing in it.
 */
export function groupByFolder(hits: readonly SearchHit[], folders: readonly FolderSummary[] = []): FolderGroup[] {
  const groups = new Map<string, FolderGroup>();
  for (const folder of folders) groups.set(folder.uid, { uid: folder.uid, title: folder.title, items: [] });
  for (const hit of hits) {
    if (hit.type !== 'dash-db') continue;
    const uid = hit.folderUid || GENERAL_UID;
    const title = hit.folderTitle ?? 'Dashboards';
    if (!groups.has(uid)) groups.set(uid, { uid, title, items: [] });
    groups.get(uid)!.items.push(hit);
  }
  return [...groups.values()].sort((a, b) => (a.uid === GENERAL_UID ? -1 : b.uid === GENERAL_UID ? 1 : a.title.localeCompare(b.title)));
}

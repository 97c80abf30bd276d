// The dashboard being edited: a working copy of the saved JSON, whether it differs from what was
// saved, and saving it. The dashboard page owns one; the panel editor, the settings pages, the save
// dialog and the panel menu reach it through `useDashboardEditor()`, and the time range and
// variables panels query with through `usePanelView()`.

import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import { getDashboard, saveDashboard, type DashboardResponse, type SaveDashboardRequest, type SaveDashboardResponse } from '../api/dashboards';
import type { TimeZone } from '../lib/time';
import * as edit from './edit';
import type { DashboardModel, PanelModel } from './model';
import type { PanelQueryContext } from './usePanelData';

export interface SaveOptions {
  message?: string;
  overwrite?: boolean;
  /** Move the dashboard to this folder ('' = General); absent keeps the current folder. */
  folderUid?: string;
}

/** What a panel needs to draw outside the grid (the panel editor's preview, the inspect drawer). */
export interface PanelViewContext {
  ctx: PanelQueryContext;
  ready: boolean;
  timeZone: TimeZone;
  onZoom: (from: number, to: number) => void;
}

export interface DashboardEditor {
  /** The working copy: what the page shows, with unsaved changes. */
  dashboard: DashboardModel;
  meta: DashboardResponse['meta'];
  /** The last saved (or loaded) version of the JSON. */
  saved: DashboardModel;
  /** Edit mode: the grid can be rearranged and the editing tools are shown. */
  editing: boolean;
  setEditing: (on: boolean) => void;
  /** True when the working copy differs from the saved JSON (or the folder it moves to). */
  dirty: boolean;
  /**
   * The folder the dashboard is in, or moves to on the next save ('' = General). The dashboard JSON
   * has no folder, so a move is kept here and counts as a change.
   */
  folder: { uid: string; title: string };
  setFolder: (uid: string, title: string) => void;
  /** Replaces the working copy with `change(working copy)`. */
  update: (change: (d: DashboardModel) => DashboardModel) => void;
  updatePanel: (id: number, change: (p: PanelModel) => PanelModel) => void;
  /** Adds a panel (at the top) and returns its id. */
  addPanel: (template?: Partial<PanelModel>) => number;
  addRow: () => number;
  removePanel: (id: number) => void;
  duplicatePanel: (id: number) => number | undefined;
  /**
   * Saves the working copy with the version it was loaded at. Resolves with the server's answer and
   * makes the result the new saved state; rejects with the ApiError (412 when someone else saved first).
   */
  save: (options?: SaveOptions) => Promise<SaveDashboardResponse>;
  /** Throws the working copy away (back to the saved JSON). */
  discard: () => void;
  /** Loads the latest saved version from the server, dropping local changes (the conflict dialog's "Reload"). */
  reload: () => Promise<void>;
  /** Opens the save dialog (the Save button, ctrl+s). */
  openSave: () => void;
  /**
   * Opens a panel alone (`viewPanel`), in the panel editor (`editPanel`, entering edit mode) or in the
   * inspect drawer (`inspect`, with a tab: data, query, json); `undefined` closes them all.
   */
  openPanel: (id: number | undefined, mode?: 'view' | 'edit' | 'inspect', tab?: string) => void;
  /** Opens a dashboard settings page (`editview`: settings, variables, versions, json), or closes it. */
  openSettings: (view: string | undefined) => void;
}

const EditorContext = createContext<DashboardEditor | undefined>(undefined);

export const DashboardEditorProvider = EditorContext.Provider;

const ViewContext = createContext<PanelViewContext | undefined>(undefined);

/** The page provides the time range, variables and time zone panels outside the grid query with. */
export const PanelViewProvider = ViewContext.Provider;

export function usePanelView(): PanelViewContext {
  const view = useContext(ViewContext);
  if (!view) throw new Error('usePanelView is used outside a dashboard page');
  return view;
}

export function useDashboardEditor(): DashboardEditor {
  const editor = useContext(EditorContext);
  if (!editor) throw new Error('useDashboardEditor is used outside a dashboard page');
  return editor;
}

/** What the page contributes: the URL-driven navigation and the panel view context. */
export type PageHooks = Pick<DashboardEditor, 'openSave' | 'openPanel' | 'openSettings'>;

/** The editor's state, for the dashboard page to provide. */
export function useEditorState(response: DashboardResponse, page: PageHooks): DashboardEditor {
  const [saved, setSaved] = useState<DashboardModel>(response.dashboard);
  const [meta, setMeta] = useState(response.meta);
  const [working, setWorking] = useState<DashboardModel>(response.dashboard);
  const [editing, setEditingState] = useState(false);
  const savedFolder = useMemo(() => ({ uid: meta.folderUid ?? '', title: meta.folderTitle ?? 'General' }), [meta.folderUid, meta.folderTitle]);
  const [folder, setFolderState] = useState(savedFolder);
  const setFolder = useCallback((uid: string, title: string) => setFolderState({ uid, title }), []);

  const update = useCallback((change: (d: DashboardModel) => DashboardModel) => setWorking((d) => change(edit.editableDashboard(d))), []);
  const setEditing = useCallback((on: boolean) => {
    if (on) setWorking((d) => edit.editableDashboard(d));
    setEditingState(on);
  }, []);
  const dirty = useMemo(() => folder.uid !== savedFolder.uid || (working !== saved && JSON.stringify(working) !== JSON.stringify(saved)), [working, saved, folder.uid, savedFolder.uid]);

  const save = useCallback(
    async (options: SaveOptions = {}) => {
      const request: SaveDashboardRequest = { dashboard: working, message: options.message, overwrite: options.overwrite };
      request.folderUid = options.folderUid ?? folder.uid;
      const answer = await saveDashboard(request);
      const movedTo = request.folderUid === folder.uid ? folder : { uid: request.folderUid, title: folder.title };
      const stored = { ...working, id: answer.id, uid: answer.uid, version: answer.version };
      setSaved(stored);
      setWorking((current) => (current === working ? stored : { ...current, id: answer.id, uid: answer.uid, version: answer.version }));
      setMeta((m) => ({ ...m, url: answer.url, slug: answer.slug ?? m.slug, folderUid: movedTo.uid, folderTitle: movedTo.uid ? movedTo.title : 'General', version: answer.version }));
      setFolderState(movedTo);
      return answer;
    },
    [working, folder],
  );

  const reload = useCallback(async () => {
    const fresh = await getDashboard(saved.uid);
    setSaved(fresh.dashboard);
    setWorking(editing ? edit.editableDashboard(fresh.dashboard) : fresh.dashboard);
    setMeta(fresh.meta);
    setFolderState({ uid: fresh.meta.folderUid ?? '', title: fresh.meta.folderTitle ?? 'General' });
  }, [saved.uid, editing]);

  return useMemo(() => {
    const panelsOf = (d: DashboardModel) => d.panels ?? [];
    return {
      dashboard: working,
      meta,
      saved,
      editing,
      setEditing,
      dirty,
      folder,
      setFolder,
      update,
      updatePanel: (id, change) => update((d) => ({ ...d, panels: edit.updatePanel(panelsOf(d), id, change) })),
      addPanel: (template) => {
        const { panels, id } = edit.addPanel(panelsOf(edit.editableDashboard(working)), template);
        update((d) => ({ ...d, panels }));
        return id;
      },
      addRow: () => {
        const { panels, id } = edit.addRow(panelsOf(edit.editableDashboard(working)));
        update((d) => ({ ...d, panels }));
        return id;
      },
      removePanel: (id) => update((d) => ({ ...d, panels: edit.removePanel(panelsOf(d), id) })),
      duplicatePanel: (id) => {
        const result = edit.duplicatePanel(panelsOf(edit.editableDashboard(working)), id);
        update((d) => ({ ...d, panels: result.panels }));
        return result.id;
      },
      save,
      discard: () => {
        setWorking(saved);
        setFolderState(savedFolder);
      },
      reload,
      ...page,
    };
  }, [working, meta, saved, editing, setEditing, dirty, folder, setFolder, savedFolder, update, save, reload, page]);
}

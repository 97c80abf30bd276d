import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { getDashboard, type DashboardResponse } from '../api/dashboards';
import { DashboardGrid } from '../dashboard/DashboardGrid';
import { expandRepeats, findPanel, panelsFromLegacyRows } from '../dashboard/layout';
import { ALL_VALUE } from '../lib/variables';
import type { PanelModel } from '../dashboard/model';
import { PanelFrame } from '../dashboard/PanelFrame';
import { RefreshPicker, TimePicker } from '../dashboard/TimePicker';
import { StarButton } from '../dashboard/StarButton';
import { useVariables } from '../dashboard/useVariables';
import { VariablesBar } from '../dashboard/VariablesBar';
import { parseDuration, resolveRange, zoomOut, type RawTimeRange, type TimeZone } from '../lib/time';
import { parseUrlState, serializeUrlState, updateUrlState, type DashboardUrlState } from '../lib/urlState';
import type { PanelQueryContext } from '../dashboard/usePanelData';
import { DashboardEditorProvider, PanelViewProvider, useEditorState, type PageHooks, type PanelViewContext } from '../dashboard/editor';
import { EditToolbar } from '../dashboard/EditToolbar';
import type { GridItemPosition } from '../dashboard/edit';
import { applyGridLayout } from '../dashboard/edit';
import { useDebouncedValue } from '../app/useDebouncedValue';

// The editing tools are their own chunks: a reader never loads them.
const PanelEditor = lazy(() => import('../editor/panel/PanelEditor'));
const InspectDrawer = lazy(() => import('../dashboard/inspect/InspectDrawer'));
const DashboardSettings = lazy(() => import('../dashboard/settings/DashboardSettings'));
const SaveDashboardDialog = lazy(() => import('../dashboard/save/SaveDashboardDialog'));

const NO_PANELS: PanelModel[] = [];
const NO_VARIABLES: never[] = [];

/** Auto-refresh never runs faster than this, whatever the URL says (Grafana's min_refresh_interval). */
const MIN_REFRESH_MS = 5000;

export default function DashboardPage() {
  const { uid = '' } = useParams();
  const [loaded, setLoaded] = useState<{ uid: string; response?: DashboardResponse; error?: string }>();

  useEffect(() => {
    const abort = new AbortController();
    getDashboard(uid, abort.signal)
      .then((response) => setLoaded({ uid, response }))
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setLoaded({ uid, error: e instanceof Error ? e.message : String(e) });
      });
    return () => abort.abort();
  }, [uid]);

  if (!loaded || loaded.uid !== uid) return <div className="page-loading" aria-busy="true" />;
  if (loaded.error || !loaded.response)
    return (
      <div className="page-error" role="alert">
        Dashboard could not be loaded: {loaded.error}
      </div>
    );
  return <DashboardView key={uid} response={loaded.response} />;
}

function DashboardView({ response }: { response: DashboardResponse }) {
  const [searchParams, setSearchParams] = useSearchParams();
  const url = useMemo(() => parseUrlState(searchParams), [searchParams]);
  const [tick, setTick] = useState(0);
  const [saveOpen, setSaveOpen] = useState(false);

  const navigate = useCallback(
    (change: (s: DashboardUrlState) => DashboardUrlState, replace = false) => {
      // Read the live URL, not a render's copy, so two quick changes do not undo each other.
      const current = parseUrlState(window.location.search);
      setSearchParams(new URLSearchParams(serializeUrlState(change(current))), { replace });
    },
    [setSearchParams],
  );

  // The time zone and range come from the URL, else from the saved dashboard (edits apply on save).
  const initial = response.dashboard;
  const timeZone: TimeZone = (url.timezone ?? initial.timezone) === 'utc' ? 'utc' : 'browser';
  const raw: RawTimeRange = { from: url.from ?? initial.time?.from ?? 'now-6h', to: url.to ?? initial.time?.to ?? 'now' };

  // The range is resolved once per refresh so every panel asks for the same instant.
  const range = useMemo(() => {
    // An unreadable range in the URL falls back to Grafana's default, the last 6 hours.
    return resolveRange(raw, timeZone) ?? resolveRange({ from: 'now-6h', to: 'now' }, timeZone)!;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [raw.from, raw.to, timeZone, tick]);
  const setRange = useCallback((r: RawTimeRange) => navigate((s) => updateUrlState(s, { from: r.from, to: r.to })), [navigate]);
  const onZoom = useCallback((from: number, to: number) => setRange({ from: String(from), to: String(to) }), [setRange]);

  const page: PageHooks = useMemo(
    () => ({
      openSave: () => setSaveOpen(true),
      openPanel: (id, mode = 'view', tab) =>
        navigate((s) => ({
          ...s,
          viewPanel: id !== undefined && mode === 'view' ? String(id) : undefined,
          editPanel: id !== undefined && mode === 'edit' ? String(id) : undefined,
          inspect: id !== undefined && mode === 'inspect' ? String(id) : undefined,
          inspectTab: id !== undefined && mode === 'inspect' ? tab : undefined,
        })),
      openSettings: (editview) => navigate((s) => ({ ...s, editview })),
    }),
    [navigate],
  );
  const editor = useEditorState(response, page);
  const dashboard = editor.dashboard;
  const refresh = url.refresh ?? (dashboard.refresh || undefined);

  useEffect(() => {
    document.title = `${dashboard.title} - Pharos`;
  }, [dashboard.title]);

  // While the settings are open the variables' definitions change with every key; resolve them once typing rests.
  const models = useDebouncedValue(dashboard.templating?.list ?? NO_VARIABLES, url.editview ? 500 : 0);
  const variables = useVariables(models, url.variables, raw);

  // Write every variable's resolved selection into the URL, as Grafana does, so the link is complete.
  // Only a resolution of the URL as it is now may write: an older one would undo the user's change.
  const urlVariablesKey = JSON.stringify(url.variables);
  useEffect(() => {
    if (!variables.ready || variables.resolvedFrom !== urlVariablesKey) return;
    const missing = variables.states.filter((s) => JSON.stringify(url.variables[s.model.name] ?? []) !== JSON.stringify(s.selection));
    if (missing.length === 0) return;
    navigate((s) => updateUrlState(s, { variables: Object.fromEntries(missing.map((m) => [m.model.name, m.selection])) }), true);
  }, [variables, url.variables, urlVariablesKey, navigate]);

  // Auto-refresh.
  useEffect(() => {
    const ms = refresh ? parseDuration(refresh) : undefined;
    if (!ms) return;
    const timer = setInterval(() => setTick((t) => t + 1), Math.max(ms, MIN_REFRESH_MS));
    return () => clearInterval(timer);
  }, [refresh]);

  const ctx: PanelQueryContext = useMemo(() => ({ from: range.from, to: range.to, variables: variables.values, refreshTick: tick }), [range, variables.values, tick]);
  const view: PanelViewContext = useMemo(() => ({ ctx, ready: variables.ready, timeZone, onZoom }), [ctx, variables.ready, timeZone, onZoom]);
  const onZoomOut = useCallback(() => {
    const z = zoomOut(range);
    setRange({ from: String(z.from), to: String(Math.min(z.to, Date.now())) });
  }, [range, setRange]);

  // Grafana's keyboard shortcuts: `d r` refresh, `t z` zoom out, Esc leaves a viewed or edited panel
  // (or settings), ctrl+s saves.
  const { editing, dirty, openPanel, openSettings } = editor;
  useEffect(() => {
    let previous = '';
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        // The browser's "save page" is never what a dashboard user means.
        e.preventDefault();
        if (response.meta.canSave !== false) setSaveOpen(true);
        return;
      }
      const target = e.target as HTMLElement;
      if (target.closest('input, select, textarea, [contenteditable], [role="dialog"]')) return;
      if (e.key === 'Escape') {
        if (url.inspect || url.viewPanel || url.editPanel) openPanel(undefined);
        else if (url.editview) openSettings(undefined);
      }
      if (previous === 'd' && e.key === 'r') setTick((t) => t + 1);
      if (previous === 't' && e.key === 'z') onZoomOut();
      previous = e.key;
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [openPanel, openSettings, onZoomOut, url.viewPanel, url.editPanel, url.editview, url.inspect, response.meta.canSave]);

  // Leaving the page (reload, closing the tab) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  // Opening the panel editor or settings from a link enters edit mode, as in Grafana.
  const { setEditing } = editor;
  useEffect(() => {
    if ((url.editPanel || url.editview) && !editing) setEditing(true);
  }, [url.editPanel, url.editview, editing, setEditing]);

  const savedPanels = useMemo(() => dashboard.panels ?? (dashboard.rows ? panelsFromLegacyRows(dashboard.rows) : NO_PANELS), [dashboard.panels, dashboard.rows]);
  // Repeated panels need the variables' values, so they appear once those are resolved.
  const panels = useMemo(() => {
    const byName = new Map(variables.states.map((st) => [st.model.name, st]));
    return expandRepeats(savedPanels, (name) => {
      const st = byName.get(name);
      if (!st) return undefined;
      return st.selection.includes(ALL_VALUE) ? st.options.map((o) => o.value) : st.selection;
    });
  }, [savedPanels, variables.states]);
  const viewed = url.viewPanel ? findPanel(panels, Number(url.viewPanel)) : undefined;
  const { update } = editor;
  const onLayoutChange = useCallback((layout: GridItemPosition[]) => update((d) => ({ ...d, panels: applyGridLayout(d.panels ?? [], layout) })), [update]);

  let body: React.ReactNode;
  if (url.editPanel) {
    body = <PanelEditor panelId={Number(url.editPanel)} onClose={() => openPanel(undefined)} />;
  } else if (url.editview) {
    body = <DashboardSettings view={url.editview} onViewChange={(v) => openSettings(v)} onClose={() => openSettings(undefined)} />;
  } else if (viewed) {
    body = (
      <div className="view-panel" style={{ height: 'calc(100vh - 160px)' }}>
        <button type="button" className="button ghost" data-testid="panel-view-close" onClick={() => openPanel(undefined)}>
          ← Back to dashboard (Esc)
        </button>
        <PanelFrame panel={viewed} ctx={ctx} ready={variables.ready} timeZone={timeZone} onZoom={onZoom} />
      </div>
    );
  } else {
    body = <DashboardGrid panels={panels} ctx={ctx} ready={variables.ready} timeZone={timeZone} onZoom={onZoom} onView={(id) => openPanel(id)} editing={editing} onLayoutChange={onLayoutChange} />;
  }

  return (
    <DashboardEditorProvider value={editor}>
      <PanelViewProvider value={view}>
        <div className={`dashboard${editing ? ' editing' : ''}`} data-testid="dashboard" data-uid={dashboard.uid} data-editing={editing ? 'true' : 'false'} data-dirty={dirty ? 'true' : 'false'}>
          {!url.kiosk && (
            <div className="dashboard-header">
              <h1>
                {editor.meta.folderTitle && <span className="folder-crumb">{editor.meta.folderTitle} / </span>}
                {dashboard.title}
              </h1>
              <StarButton uid={dashboard.uid} initiallyStarred={!!response.meta.isStarred} />
              <EditToolbar />
              <TimePicker range={raw} timeZone={timeZone} onChange={setRange} onZoomOut={onZoomOut} onTimeZoneChange={(tz) => navigate((s) => ({ ...s, timezone: tz }))} />
              <RefreshPicker refresh={refresh} onRefresh={() => setTick((t) => t + 1)} onIntervalChange={(r) => navigate((s) => ({ ...s, refresh: r }))} />
            </div>
          )}
          {url.kiosk !== true && !url.editview && <VariablesBar variables={variables.states} onChange={(name, values) => navigate((s) => updateUrlState(s, { variables: { [name]: values } }))} />}
          <Suspense fallback={<div className="page-loading" aria-busy="true" />}>
            {body}
            {url.inspect && <InspectDrawer panelId={Number(url.inspect)} tab={url.inspectTab ?? 'data'} onTabChange={(tab) => openPanel(Number(url.inspect), 'inspect', tab)} onClose={() => openPanel(undefined)} />}
            {saveOpen && <SaveDashboardDialog onClose={() => setSaveOpen(false)} />}
          </Suspense>
        </div>
      </PanelViewProvider>
    </DashboardEditorProvider>
  );
}

// Grafana's panel editor (`?editPanel=<id>`): the live preview on top, the queries below it, the
// options on the right. Every edit changes the dashboard's working copy at once, so "Back to
// dashboard" keeps them (saving is the dashboard's Save) and "Discard" puts the panel back as it
// was when the editor opened.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useDashboardEditor, usePanelView } from '../../dashboard/editor';
import { findPanel, panelsFromLegacyRows } from '../../dashboard/layout';
import type { PanelModel } from '../../dashboard/model';
import { PanelFrame } from '../../dashboard/PanelFrame';
import { panelPlugin } from '../../panels/registry';
import { OptionsPane } from './OptionsPane';
import { QueriesPane } from './QueriesPane';
import { useDatasources } from './useDatasources';
import './panelEditor.css';

export interface PanelEditorProps {
  panelId: number;
  /** Back to the dashboard (Grafana's "Back to dashboard"; the changes stay in the working copy). */
  onClose: () => void;
}

/** Query edits reach the preview once typing pauses this long (or at once on Refresh, Shift+Enter, blur). */
const QUERY_DEBOUNCE_MS = 1000;

/**
 * The targets and datasource the preview queries with: they follow the panel's after a pause, or
 * at once when `run` is called (which also re-sends an unchanged query).
 */
function usePreviewQueries(panel: PanelModel | undefined) {
  const [queried, setQueried] = useState(() => ({ targets: panel?.targets, datasource: panel?.datasource }));
  const [runTick, setRunTick] = useState(0);
  const [runRequests, setRunRequests] = useState(0);
  const runPending = useRef(false);
  const key = JSON.stringify([panel?.targets, panel?.datasource]);

  useEffect(() => {
    if (!panel) return;
    // Captured from the render that follows the edit, so a run asked for with an edit sends the edit.
    const snapshot = { targets: panel.targets, datasource: panel.datasource };
    const forced = runPending.current;
    const timer = setTimeout(
      () => {
        runPending.current = false;
        setQueried(snapshot);
        if (forced) setRunTick((t) => t + 1);
      },
      forced ? 0 : QUERY_DEBOUNCE_MS,
    );
    return () => clearTimeout(timer);
    // `key` stands for the panel's targets and datasource; other panel changes do not re-query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, runRequests]);

  const run = useCallback(() => {
    runPending.current = true;
    setRunRequests((n) => n + 1);
  }, []);
  return { queried, runTick, run };
}

export default function PanelEditor({ panelId, onClose }: PanelEditorProps) {
  const editor = useDashboardEditor();
  const view = usePanelView();
  const { dashboard, updatePanel } = editor;
  const panel = useMemo(() => findPanel(dashboard.panels ?? panelsFromLegacyRows(dashboard.rows ?? []), panelId), [dashboard.panels, dashboard.rows, panelId]);
  // The panel as it was when the editor opened, for Discard.
  const [original] = useState(panel);
  const changed = useMemo(() => JSON.stringify(panel) !== JSON.stringify(original), [panel, original]);
  const datasources = useDatasources();
  const { queried, runTick, run } = usePreviewQueries(panel);
  const change = useCallback((fn: (p: PanelModel) => PanelModel) => updatePanel(panelId, fn), [updatePanel, panelId]);

  const preview = useMemo(() => (panel ? { ...panel, targets: queried.targets, datasource: queried.datasource } : undefined), [panel, queried]);
  const previewCtx = useMemo(() => ({ ...view.ctx, refreshTick: view.ctx.refreshTick + runTick }), [view.ctx, runTick]);

  if (!panel || !preview) {
    return (
      <div className="panel-editor" data-testid="panel-editor" data-panel-id={panelId}>
        <p className="page-error" role="alert">
          Panel {panelId} is not on this dashboard.
        </p>
        <button type="button" className="button" data-testid="panel-editor-back" onClick={onClose}>
          ← Back to dashboard
        </button>
      </div>
    );
  }

  const discard = () => {
    if (original) updatePanel(panelId, () => original);
    onClose();
  };
  const queries = panelPlugin(panel.type)?.queries ?? false;

  return (
    <div className="panel-editor" data-testid="panel-editor" data-panel-id={panelId} data-changed={changed ? 'true' : 'false'}>
      <div className="pe-toolbar">
        <h2>
          Edit panel <span className="muted">{panel.title ? `· ${panel.title}` : ''}</span>
        </h2>
        <span className="pe-spacer" />
        <button type="button" className="button" data-testid="panel-editor-discard" disabled={!changed} title="Put the panel back as it was when the editor opened" onClick={discard}>
          Discard
        </button>
        <button type="button" className="button primary" data-testid="panel-editor-back" title="Keep the changes (save the dashboard to store them)" onClick={onClose}>
          ← Back to dashboard
        </button>
      </div>
      <div className="pe-main">
        <div className="pe-left">
          <div className="pe-preview" data-testid="panel-editor-preview">
            <PanelFrame panel={preview} ctx={previewCtx} ready={view.ready} timeZone={view.timeZone} onZoom={view.onZoom} menu={false} />
          </div>
          {queries ? <QueriesPane panel={panel} datasources={datasources} onChange={change} onRun={run} /> : <p className="muted pe-no-queries">A {panel.type} panel sends no queries; its content is in the options on the right.</p>}
        </div>
        <aside className="pe-side" aria-label="Panel options">
          <OptionsPane panel={panel} onChange={change} />
        </aside>
      </div>
    </div>
  );
}

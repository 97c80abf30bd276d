// Grafana's panel inspector: a drawer on the right with the panel's data (as a table, downloadable
// as CSV), the query request and response, and the panel's JSON (editable in edit mode).

import { useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { displayOptions } from '../../panels/fieldOptions';
import { interpolateDisplay } from '../../lib/variables';
import { useDashboardEditor, usePanelView } from '../editor';
import { findPanel, panelsFromLegacyRows } from '../layout';
import type { PanelModel } from '../model';
import { csvFileName, frameCells, frameLabel, frameToCsv, type CellFormat } from './inspectData';
import { formatPanelJson, parsePanelJson } from './panelJson';
import { useInspectQuery, type InspectQuery } from './useInspectQuery';
import './inspect.css';

export interface InspectDrawerProps {
  panelId: number;
  /** `data`, `query` or `json` (Grafana's inspectTab). */
  tab: string;
  onTabChange: (tab: string) => void;
  onClose: () => void;
}

const TABS = [
  { id: 'data', label: 'Data' },
  { id: 'query', label: 'Query' },
  { id: 'json', label: 'Panel JSON' },
] as const;

/** Rows drawn in the Data tab; the CSV download has them all. */
const MAX_ROWS = 1000;

export default function InspectDrawer({ panelId, tab, onTabChange, onClose }: InspectDrawerProps) {
  const editor = useDashboardEditor();
  const view = usePanelView();
  const dashboard = editor.dashboard;
  const panel = useMemo(() => findPanel(dashboard.panels ?? panelsFromLegacyRows(dashboard.rows ?? []), panelId), [dashboard.panels, dashboard.rows, panelId]);
  const [runTick, setRunTick] = useState(0);
  const query = useInspectQuery(panel, view.ctx, view.ready, runTick);
  const current = TABS.some((t) => t.id === tab) ? tab : 'data';
  const title = panel ? interpolateDisplay(panel.title ?? '', view.ctx.variables) : '';
  const closeRef = useRef<HTMLButtonElement>(null);

  // Focus moves into the drawer, so Esc and Tab work from the keyboard at once.
  useEffect(() => closeRef.current?.focus(), []);

  return createPortal(
    <aside
      className="inspect-drawer"
      data-testid="inspect-drawer"
      data-panel-id={panelId}
      aria-label={`Inspect: ${title || 'panel'}`}
      onKeyDown={(e) => {
        // Esc closes, unless it is meant for the JSON being typed.
        if (e.key === 'Escape' && !(e.target as HTMLElement).closest('textarea')) {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="inspect-header">
        <div>
          <h2>Inspect: {title || `Panel ${panelId}`}</h2>
          {query.status === 'done' && query.data && (
            <span className="muted">
              {query.data.frames.length} {query.data.frames.length === 1 ? 'frame' : 'frames'}
              {query.took !== undefined && `, ${query.took} ms`}
            </span>
          )}
        </div>
        <button ref={closeRef} type="button" className="button ghost" data-testid="inspect-close" aria-label="Close inspector (Esc)" title="Close (Esc)" onClick={onClose}>
          ✕
        </button>
      </header>
      <div className="inspect-tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" className="inspect-tab" data-testid="inspect-tab" data-tab={t.id} aria-selected={current === t.id} onClick={() => onTabChange(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <div className="inspect-body" role="tabpanel">
        {!panel ? (
          <p className="panel-error" role="alert">
            Panel {panelId} is not on this dashboard.
          </p>
        ) : current === 'data' ? (
          <DataTab panel={panel} query={query} title={title} />
        ) : current === 'query' ? (
          <QueryTab query={query} onRefresh={() => setRunTick((t) => t + 1)} />
        ) : (
          <JsonTab key={panel.id} panel={panel} canApply={editor.editing} onApply={(next) => editor.updatePanel(panel.id, () => next)} />
        )}
      </div>
    </aside>,
    document.body,
  );
}

function QueryError({ query }: { query: InspectQuery }) {
  if (query.status !== 'error') return null;
  return (
    <p className="panel-error" role="alert">
      {query.error}
    </p>
  );
}

function DataTab({ panel, query, title }: { panel: PanelModel; query: InspectQuery; title: string }) {
  const view = usePanelView();
  const [frameIndex, setFrameIndex] = useState(0);
  const [formatted, setFormatted] = useState(true);
  const frames = query.data?.frames ?? [];
  const frame = frames[Math.min(frameIndex, frames.length - 1)];
  const { unit, decimals } = displayOptions(panel);
  const timeZone = view.timeZone;
  const format: CellFormat = useMemo(() => ({ formatted, unit, decimals, timeZone }), [formatted, unit, decimals, timeZone]);
  const cells = useMemo(() => (frame ? frameCells(frame, format) : undefined), [frame, format]);

  const download = () => {
    if (!frame) return;
    const blob = new Blob([frameToCsv(frame, format)], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = csvFileName(title, new Date());
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  if (query.status === 'idle') return <p className="muted">This panel sends no query.</p>;
  return (
    <div className="inspect-data">
      <QueryError query={query} />
      <div className="inspect-controls">
        {frames.length > 1 && (
          <label>
            Frame{' '}
            <select data-testid="inspect-frame" value={Math.min(frameIndex, frames.length - 1)} onChange={(e) => setFrameIndex(Number(e.target.value))}>
              {frames.map((f, i) => (
                <option key={i} value={i}>
                  {frameLabel(f, i)}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="checkbox">
          <input type="checkbox" data-testid="inspect-formatted" checked={formatted} onChange={(e) => setFormatted(e.target.checked)} /> Formatted data
        </label>
        <button type="button" className="button" data-testid="inspect-download-csv" disabled={!frame} onClick={download}>
          Download CSV
        </button>
        {query.status === 'loading' && <span className="muted">Loading…</span>}
      </div>
      {!cells ? (
        query.status !== 'loading' && <p className="muted">No data</p>
      ) : (
        <div className="inspect-table-wrap">
          <table className="data-table" data-testid="inspect-data-table">
            <thead>
              <tr>
                {cells.headers.map((h, i) => (
                  <th key={i} className="inspect-th">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {cells.rows.slice(0, MAX_ROWS).map((row, r) => (
                <tr key={r}>
                  {row.map((cell, c) => (
                    <td key={c}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {cells.rows.length > MAX_ROWS && (
            <p className="muted">
              Showing {MAX_ROWS} of {cells.rows.length} rows; the CSV has them all.
            </p>
          )}
        </div>
      )}
    </div>
  );
}

function QueryTab({ query, onRefresh }: { query: InspectQuery; onRefresh: () => void }) {
  if (query.status === 'idle') return <p className="muted">This panel sends no query.</p>;
  return (
    <div className="inspect-query">
      <div className="inspect-controls">
        <button type="button" className="button" data-testid="inspect-refresh" onClick={onRefresh}>
          Refresh
        </button>
        {query.status === 'loading' && <span className="muted">Loading…</span>}
        {query.took !== undefined && query.status !== 'loading' && <span className="muted">Answered in {query.took} ms</span>}
      </div>
      <QueryError query={query} />
      <h3>Request: POST /api/ds/query</h3>
      <pre className="inspect-pre" data-testid="inspect-request">
        {JSON.stringify(query.request, null, 2)}
      </pre>
      <h3>Response</h3>
      <pre className="inspect-pre" data-testid="inspect-response">
        {query.response === undefined ? (query.status === 'loading' ? '…' : '(no response body)') : JSON.stringify(query.response, null, 2)}
      </pre>
    </div>
  );
}

function JsonTab({ panel, canApply, onApply }: { panel: PanelModel; canApply: boolean; onApply: (panel: PanelModel) => void }) {
  const saved = useMemo(() => formatPanelJson(panel), [panel]);
  const [text, setText] = useState(saved);
  const [error, setError] = useState<string>();
  const [applied, setApplied] = useState(false);

  const apply = () => {
    const result = parsePanelJson(text, panel);
    if ('error' in result) {
      setError(result.error);
      return;
    }
    setError(undefined);
    setApplied(true);
    setText(formatPanelJson(result.panel));
    onApply(result.panel);
  };

  return (
    <div className="inspect-json">
      <textarea
        className="inspect-json-text"
        data-testid="inspect-json"
        spellCheck={false}
        value={text}
        readOnly={!canApply}
        aria-label="Panel JSON"
        aria-invalid={error ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setApplied(false);
        }}
      />
      {error && (
        <p className="form-error" role="alert" data-testid="inspect-json-error">
          {error}
        </p>
      )}
      <div className="inspect-controls">
        {canApply ? (
          <button type="button" className="button primary" data-testid="inspect-json-apply" disabled={text === saved} onClick={apply}>
            Apply
          </button>
        ) : (
          <span className="muted">Enter edit mode to change the panel's JSON.</span>
        )}
        <button type="button" className="button" onClick={() => void navigator.clipboard?.writeText(text)}>
          Copy to clipboard
        </button>
        {applied && text === saved && <span className="form-ok">Applied. Save the dashboard to keep it.</span>}
      </div>
    </div>
  );
}

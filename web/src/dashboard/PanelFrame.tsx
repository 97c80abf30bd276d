import { useEffect, useMemo, useRef, useState } from 'react';
import type { TimeZone } from '../lib/time';
import { interpolateDisplay } from '../lib/variables';
import { panelPlugin } from '../panels/registry';
import { ErrorBoundary } from '../app/ErrorBoundary';
import type { PanelModel } from './model';
import { usePanelData, type PanelQueryContext } from './usePanelData';
import { PanelMenu } from './PanelMenu';
import { usePanelAlertAnnotations } from './alertAnnotations';

interface Props {
  panel: PanelModel;
  ctx: PanelQueryContext;
  /** False until the dashboard's variables are resolved: querying earlier would use stale values. */
  ready: boolean;
  timeZone: TimeZone;
  onZoom: (from: number, to: number) => void;
  /** Opens the panel alone (Grafana's "View", `viewPanel=<id>` in the URL); absent when already viewing. */
  onView?: (id: number) => void;
  /** The panel menu and its shortcuts (off for the panel editor's preview). */
  menu?: boolean;
}

/** True once the element has come near the viewport; panels further down query only when scrolled to. */
function useSeen(ref: React.RefObject<HTMLElement | null>): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || seen) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: '100px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, seen]);
  return seen;
}

function useSize(ref: React.RefObject<HTMLElement | null>): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      if (width === 0) return; // hidden for a moment; keep the last size rather than unmount the chart
      setSize((s) => (s.width === Math.round(width) && s.height === Math.round(height) ? s : { width: Math.round(width), height: Math.round(height) }));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}

export function PanelFrame({ panel, ctx: dashboardCtx, ready, timeZone, onZoom, onView, menu = true }: Props) {
  // A repeated copy queries with its own value of the repeat variable.
  const ctx = useMemo(() => (panel.scopedVars ? { ...dashboardCtx, variables: { ...dashboardCtx.variables, ...panel.scopedVars } } : dashboardCtx), [dashboardCtx, panel.scopedVars]);
  const frameRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const seen = useSeen(frameRef);
  const size = useSize(bodyRef);
  const plugin = panelPlugin(panel.type);
  const queries = plugin?.queries ?? false;
  const state = usePanelData(panel, queries && seen && ready && size.width > 0, size.width, ctx);
  const panelState = !plugin || !queries ? 'done' : state.status;
  const Component = plugin?.component;
  const title = interpolateDisplay(panel.title ?? '', ctx.variables);
  const annotations = usePanelAlertAnnotations(panel.id);

  return (
    <section ref={frameRef} className={`panel${panel.transparent ? ' transparent' : ''}`} data-testid="panel" data-panel-id={panel.id} data-panel-type={panel.type} data-panel-state={panelState} aria-label={title || 'Panel'} aria-busy={panelState === 'loading'}>
      <header className="panel-header">
        <h2 className="panel-title" title={panel.description || title}>
          {title}
        </h2>
        {panelState === 'loading' && seen && (
          <span className="panel-state-icon" aria-hidden="true">
            ⟳
          </span>
        )}
        {onView && (
          <button type="button" className="panel-view-button" data-testid="panel-view" onClick={() => onView(panel.id)} aria-label={`View panel ${title}`} title="View (v)">
            ⤢
          </button>
        )}
        {menu && <PanelMenu panel={panel} title={title} hoverRef={frameRef} onView={onView} />}
      </header>
      <div className="panel-body" ref={bodyRef} data-width={size.width}>
        {!Component ? (
          <div className="panel-placeholder">Panel type {panel.type} is not supported yet</div>
        ) : state.status === 'error' && queries ? (
          <div className="panel-error" role="alert" data-testid="panel-error">
            {state.error}
          </div>
        ) : (queries ? state.data : { frames: [], series: [] }) && size.width > 0 ? (
          <ErrorBoundary
            fallback={(error) => (
              <div className="panel-error" role="alert" data-testid="panel-error">
                This panel could not be drawn: {error.message}
              </div>
            )}
          >
            <Component panel={panel} data={(queries ? state.data : undefined) ?? { frames: [], series: [] }} width={size.width} height={size.height} timeZone={timeZone} range={{ from: ctx.from, to: ctx.to }} onZoom={onZoom} annotations={annotations} />
          </ErrorBoundary>
        ) : null}
      </div>
    </section>
  );
}

import { useEffect, useMemo, useRef, useState } from 'react';
import { GridLayout } from 'react-grid-layout';
import { useParams } from 'react-router';
import type { TimeZone } from '../lib/time';
import { collapsedRows, groupByRow, layoutItems } from './layout';
import { interpolateDisplay } from '../lib/variables';
import type { PanelModel } from './model';
import type { GridItemPosition } from './edit';
import { PanelFrame } from './PanelFrame';
import { RowActions } from './RowActions';
import type { PanelQueryContext } from './usePanelData';
import { AlertAnnotationsContext, useDashboardAlertAnnotations } from './alertAnnotations';

// Grafana's grid: 24 columns, 30 px rows, 8 px gaps.
const ROW_HEIGHT = 30;
const MARGIN = 8;

interface Props {
  panels: PanelModel[];
  ctx: PanelQueryContext;
  ready: boolean;
  timeZone: TimeZone;
  onZoom: (from: number, to: number) => void;
  onView: (id: number) => void;
  /** Edit mode: panels can be dragged (by the header) and resized. */
  editing?: boolean;
  /** The grid's positions after a drag or resize in edit mode. */
  onLayoutChange?: (layout: GridItemPosition[]) => void;
}

function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // A zero width (a hidden tab, a screenshot tool resizing the view) is ignored: unmounting the
    // grid for it would throw away every panel's data.
    const observer = new ResizeObserver(([entry]) => entry.contentRect.width > 0 && setWidth(Math.round(entry.contentRect.width)));
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

export function DashboardGrid({ panels, ctx, ready, timeZone, onZoom, onView, editing = false, onLayoutChange }: Props) {
  const containerRef = useRef<HTMLDivElement>(null);
  const width = useWidth(containerRef);
  const groups = useMemo(() => groupByRow(panels), [panels]);
  // Rows the user opened or closed here; the rest are as saved. Kept as toggles (not as the closed
  // set) so rows that appear later — repeated rows, rows added while editing — start as saved.
  const [toggled, setToggled] = useState<ReadonlySet<number>>(() => new Set());
  const collapsed = useMemo(() => collapsedRows(panels, toggled), [panels, toggled]);
  const items = useMemo(() => layoutItems(groups, collapsed), [groups, collapsed]);
  // A repeated copy is not a saved panel: it moves with the panel it repeats, never alone.
  const layout = useMemo(() => items.map((item) => ({ i: item.key, ...item.pos, static: !editing || item.panel.repeatPanelId !== undefined, ...(item.panel.type === 'row' ? { isResizable: false, resizeHandles: [] } : {}) })), [items, editing]);
  // Alert state changes drawn on the time series panels: one request for the whole dashboard.
  const { uid: dashboardUID } = useParams();
  const panelTypes = useMemo(() => items.map((item) => item.panel.type), [items]);
  const annotations = useDashboardAlertAnnotations(dashboardUID, panelTypes, ctx, ready && !editing);
  const reportLayout = (next: readonly GridItemPosition[]) => onLayoutChange?.(next.map(({ i, x, y, w, h }) => ({ i, x, y, w, h })));

  const toggleRow = (id: number) => {
    const next = new Set(toggled);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setToggled(next);
  };

  return (
    <AlertAnnotationsContext value={annotations}>
    <div ref={containerRef} className="dashboard-grid">
      {width > 0 && (
        <GridLayout
          width={width}
          layout={layout}
          gridConfig={{ cols: 24, rowHeight: ROW_HEIGHT, margin: [MARGIN, MARGIN], containerPadding: [0, 0] }}
          dragConfig={{ enabled: editing, handle: '.panel-header, .row-header', cancel: 'button:not(.row-header), input, select, a, [role="menu"]' }}
          resizeConfig={{ enabled: editing }}
          onDragStop={(next) => reportLayout(next)}
          onResizeStop={(next) => reportLayout(next)}
        >
          {items.map((item) =>
            item.panel.type === 'row' ? (
              <div key={item.key} className="row-header-wrap">
                <button type="button" className="row-header" data-testid="row" data-collapsed={item.collapsed ? 'true' : 'false'} aria-expanded={!item.collapsed} onClick={() => toggleRow(item.panel.id)}>
                  <span aria-hidden="true">{item.collapsed ? '▸' : '▾'}</span>
                  {interpolateDisplay(item.panel.title ?? '', { ...ctx.variables, ...item.panel.scopedVars }) || 'Row'}
                  {item.collapsed && <span className="count">({item.childCount} panels)</span>}
                </button>
                {editing && item.panel.repeatPanelId === undefined && <RowActions row={item.panel} />}
              </div>
            ) : (
              <div key={item.key}>
                <PanelFrame panel={item.panel} ctx={ctx} ready={ready} timeZone={timeZone} onZoom={onZoom} onView={onView} />
              </div>
            ),
          )}
        </GridLayout>
      )}
    </div>
    </AlertAnnotationsContext>
  );
}

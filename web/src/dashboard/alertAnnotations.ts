// Alert annotations of the open dashboard: fetched once per dashboard and time range (not once per
// panel: a dashboard of a hundred panels would send a hundred requests), then handed to each panel
// by its id through a context.
import { createContext, useContext, useEffect, useState } from 'react';
import { alertAnnotations, type AlertAnnotation } from '../api/alerting';
import { annotationsByPanel } from '../panels/annotations';

const NONE: ReadonlyMap<number, AlertAnnotation[]> = new Map();

export const AlertAnnotationsContext = createContext<ReadonlyMap<number, AlertAnnotation[]>>(NONE);

/** The alert annotations of one panel (empty outside a dashboard grid). */
export function usePanelAlertAnnotations(panelId: number): AlertAnnotation[] | undefined {
  return useContext(AlertAnnotationsContext).get(panelId);
}

/** The newest this many state changes of the whole dashboard are drawn (the server's default is 100). */
const ANNOTATION_LIMIT = 1000;

/** Panel types that draw a time axis, and so annotations. */
const TIME_PANELS = new Set(['timeseries', 'graph']);

/**
 * Fetches `/api/annotations?type=alert&dashboardUID&from&to` when the range or refresh changes.
 * A failure (an older server without the route answers 404, which the API module turns into no
 * annotations) leaves the panels without markers: annotations never break a dashboard.
 */
export function useDashboardAlertAnnotations(
  dashboardUID: string | undefined,
  panelTypes: readonly string[],
  range: { from: number; to: number; refreshTick: number },
  enabled: boolean,
): ReadonlyMap<number, AlertAnnotation[]> {
  const [byPanel, setByPanel] = useState<{ key: string; value: ReadonlyMap<number, AlertAnnotation[]> }>({ key: '', value: NONE });
  const wanted = enabled && !!dashboardUID && panelTypes.some((t) => TIME_PANELS.has(t));
  const key = wanted ? `${dashboardUID}|${range.from}|${range.to}|${range.refreshTick}` : '';
  useEffect(() => {
    if (!key || !dashboardUID) return;
    const abort = new AbortController();
    alertAnnotations({ dashboardUID, from: Math.floor(range.from), to: Math.ceil(range.to), limit: ANNOTATION_LIMIT }, abort.signal)
      .then((list) => setByPanel({ key, value: annotationsByPanel(list) }))
      .catch(() => !abort.signal.aborted && setByPanel({ key, value: NONE }));
    return () => abort.abort();
    // `key` carries the uid, range and refresh tick.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  // The last answer stays drawn while the next range loads (markers do not flicker on refresh).
  return key ? byPanel.value : NONE;
}

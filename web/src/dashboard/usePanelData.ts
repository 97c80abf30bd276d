// Runs a panel's queries against POST /api/ds/query whenever the request it would send changes.

import { useEffect, useMemo, useState } from 'react';
import { queryData, type DatasourceRef, type QueryRequest, type RequestVariables } from '../api/query';
import { framesToSeries, type DataFrame, type QueryResponse } from '../lib/frames';
import { queryResolution } from '../lib/interval';
import { parseDuration } from '../lib/time';
import type { PanelModel } from './model';
import type { PanelData } from '../panels/types';

export type PanelState = { status: 'loading'; data?: PanelData } | { status: 'done'; data: PanelData } | { status: 'error'; error: string; data?: PanelData };

const EMPTY: PanelData = { frames: [], series: [] };

/** Grafana's "mixed" datasource means each target names its own. */
const isMixed = (ds: DatasourceRef) => (typeof ds === 'string' ? ds : ds?.uid) === '-- Mixed --';

/** The panel's targets as the API wants them: hidden ones dropped, datasource defaulting to the panel's. */
export function panelQueries(panel: PanelModel, intervalMs: number, maxDataPoints: number): Record<string, unknown>[] {
  return (panel.targets ?? [])
    .filter((t) => !t.hide)
    .map((t, i) => ({
      ...t,
      refId: (t.refId as string | undefined) ?? String.fromCharCode(65 + i),
      datasource: t.datasource ?? (isMixed(panel.datasource) ? undefined : panel.datasource) ?? undefined,
      intervalMs,
      maxDataPoints,
    }));
}

export interface PanelQueryContext {
  from: number;
  to: number;
  variables: RequestVariables;
  /** Changes on every refresh (button or auto-refresh), forcing a refetch of the same request. */
  refreshTick: number;
}

/** The body of POST /api/ds/query a panel `widthPx` wide sends (the inspect drawer shows it). */
export function panelRequest(panel: PanelModel, widthPx: number, ctx: Pick<PanelQueryContext, 'from' | 'to' | 'variables'>): QueryRequest {
  const minInterval = panel.interval ? parseDuration(panel.interval.replace(/^>/, '')) : undefined;
  const { intervalMs, maxDataPoints } = queryResolution(ctx.to - ctx.from, widthPx, minInterval ?? 0, panel.maxDataPoints);
  return {
    from: String(ctx.from),
    to: String(ctx.to),
    queries: panelQueries(panel, intervalMs, maxDataPoints),
    variables: ctx.variables,
  };
}

/** The panel's frames (each tagged with its refId) and query errors from the answer to `request`. */
export function panelStateFromResponse(panel: PanelModel, request: QueryRequest, response: QueryResponse): PanelState {
  const frames: DataFrame[] = [];
  const errors: string[] = [];
  for (const q of request.queries) {
    const refId = q.refId as string;
    const result = response.results?.[refId];
    if (!result) continue;
    if ((result.status !== undefined && result.status !== 200) || result.error) errors.push(result.error ?? `Query ${refId} failed with status ${result.status}`);
    for (const f of result.frames ?? []) frames.push({ ...f, schema: f.schema ? { ...f.schema, refId: f.schema.refId ?? refId } : f.schema });
  }
  const data = { frames, series: framesToSeries(frames, '', panel.fieldConfig?.defaults?.displayName) };
  return errors.length > 0 ? { status: 'error', error: errors.join('\n'), data } : { status: 'done', data };
}

export function usePanelData(panel: PanelModel, enabled: boolean, widthPx: number, ctx: PanelQueryContext): PanelState {
  // The last answer with the request (and refresh) it answered; anything else is still loading.
  const [result, setResult] = useState<{ key: string; state: PanelState }>();
  const request = useMemo(() => panelRequest(panel, widthPx, ctx), [panel, widthPx, ctx.from, ctx.to, ctx.variables]); // eslint-disable-line react-hooks/exhaustive-deps
  const key = `${JSON.stringify(request)}#${ctx.refreshTick}`;
  const hasQueries = request.queries.length > 0;

  useEffect(() => {
    if (!enabled || !hasQueries) return;
    const abort = new AbortController();
    queryData(request, abort.signal)
      .then((response) => setResult({ key, state: panelStateFromResponse(panel, request, response) }))
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        setResult({ key, state: { status: 'error', error: e instanceof Error ? e.message : String(e) } });
      });
    return () => abort.abort();
    // `key` stands for `request` and the refresh tick.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, enabled]);

  if (!hasQueries) return { status: 'done', data: EMPTY };
  if (result?.key === key) return result.state;
  // Keep showing the previous data while the new answer is on its way.
  return { status: 'loading', data: result?.state.data };
}

// The inspect drawer's own run of a panel's query: the same request body the panel sends (built by
// usePanelData's panelRequest with the panel's width on screen), kept together with the answer so
// the Query tab can show both and the Data tab the frames.

import { useEffect, useMemo, useState } from 'react';
import { queryData, type QueryRequest } from '../../api/query';
import type { QueryResponse } from '../../lib/frames';
import { panelPlugin } from '../../panels/registry';
import type { PanelData } from '../../panels/types';
import type { PanelModel } from '../model';
import { panelRequest, panelStateFromResponse, type PanelQueryContext } from '../usePanelData';

export interface InspectQuery {
  /** Undefined for panels that send no query (text). */
  request?: QueryRequest;
  status: 'idle' | 'loading' | 'done' | 'error';
  response?: unknown;
  data?: PanelData;
  error?: string;
  /** Milliseconds the answer took. */
  took?: number;
}

/** The width the panel's body has on the page, so the request matches the panel's own (maxDataPoints). */
function panelWidth(panel: PanelModel): number {
  const body = document.querySelector<HTMLElement>(`[data-testid="panel"][data-panel-id="${panel.id}"] .panel-body`);
  // PanelFrame writes the width it queries with on the panel's body.
  const measured = Number(body?.dataset.width);
  if (measured > 0) return measured;
  return Math.round(((panel.gridPos?.w ?? 12) / 24) * window.innerWidth);
}

export function useInspectQuery(panel: PanelModel | undefined, ctx: PanelQueryContext, ready: boolean, runTick: number): InspectQuery {
  const queries = panel ? (panelPlugin(panel.type)?.queries ?? false) : false;
  const request = useMemo(() => (panel && queries ? panelRequest(panel, panelWidth(panel), ctx) : undefined), [panel, queries, ctx]);
  const key = request ? `${JSON.stringify(request)}#${ctx.refreshTick}#${runTick}` : '';
  const [result, setResult] = useState<{ key: string; value: InspectQuery }>();

  useEffect(() => {
    if (!request || !panel || !ready || request.queries.length === 0) return;
    const abort = new AbortController();
    const started = performance.now();
    queryData(request, abort.signal)
      .then((response: QueryResponse) => {
        const state = panelStateFromResponse(panel, request, response);
        const took = Math.round(performance.now() - started);
        setResult({ key, value: { request, status: state.status === 'error' ? 'error' : 'done', response, data: state.data, error: state.status === 'error' ? state.error : undefined, took } });
      })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        const body = e && typeof e === 'object' && 'body' in e ? (e as { body: unknown }).body : undefined;
        setResult({ key, value: { request, status: 'error', response: body, error: e instanceof Error ? e.message : String(e) } });
      });
    return () => abort.abort();
    // `key` stands for the request and both refresh counters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, ready]);

  if (!request) return { status: 'idle' };
  if (request.queries.length === 0) return { request, status: 'done', data: { frames: [], series: [] } };
  if (result?.key === key) return result.value;
  return { request, status: 'loading', data: result?.value.data };
}

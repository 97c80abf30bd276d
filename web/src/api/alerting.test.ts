import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertAnnotations, createRule, evaluateRule } from './alerting';

/** A stand-in for fetch answering `status` with `body`; its calls are the (url, init) pairs sent. */
function answer(status: number, body: unknown) {
  return vi.fn<(url: string, init?: RequestInit) => Promise<Response>>(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
}

afterEach(() => vi.unstubAllGlobals());

describe('alerting API', () => {
  it('asks for a dashboard’s alert annotations in epoch ms', async () => {
    const fetch = answer(200, [{ id: 1, panelId: 2, time: 5, newState: 'Alerting' }]);
    vi.stubGlobal('fetch', fetch);
    const list = await alertAnnotations({ dashboardUID: 'd 1', from: 1000, to: 2000, limit: 10 });
    expect(list).toHaveLength(1);
    expect(fetch.mock.calls[0][0]).toBe('/api/annotations?type=alert&dashboardUID=d+1&from=1000&to=2000&limit=10');
  });

  it('surfaces a server error, but treats a missing route (404) as no annotations and stops asking', async () => {
    vi.stubGlobal('fetch', answer(500, { message: 'boom' }));
    await expect(alertAnnotations({ dashboardUID: 'd', from: 1, to: 2 })).rejects.toThrow('boom');
    const notFound = answer(404, { message: 'Not found' });
    vi.stubGlobal('fetch', notFound);
    expect(await alertAnnotations({ dashboardUID: 'd', from: 1, to: 2 })).toEqual([]);
    expect(await alertAnnotations({ dashboardUID: 'd', from: 3, to: 4 })).toEqual([]);
    expect(notFound).toHaveBeenCalledTimes(1);
  });

  it('saves rules without provenance and previews with the rule’s data and condition', async () => {
    const fetch = answer(201, { uid: 'r' });
    vi.stubGlobal('fetch', fetch);
    await createRule({ title: 't', folderUID: 'f', ruleGroup: 'g', condition: 'A', data: [], noDataState: 'NoData', execErrState: 'Error', for: '0s' });
    const init = fetch.mock.calls[0][1] as RequestInit;
    expect((init.headers as Record<string, string>)['X-Disable-Provenance']).toBe('true');
    vi.stubGlobal('fetch', answer(400, { message: 'invalid alert rule: bad' }));
    await expect(evaluateRule([], 'C')).rejects.toThrow('invalid alert rule: bad');
  });
});

import { describe, expect, it } from 'vitest';
import { panelQueries } from './usePanelData';
import type { PanelModel } from './model';

describe('panelQueries', () => {
  const panel: PanelModel = {
    id: 1,
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: 'prom' },
    targets: [{ refId: 'A', expr: 'up' }, { expr: 'rate(x[5m])', datasource: { type: 'prometheus', uid: 'other' } }, { refId: 'C', expr: 'hidden', hide: true }],
  };

  it('defaults each target to the panel datasource, drops hidden ones and adds resolution', () => {
    expect(panelQueries(panel, 15000, 800)).toEqual([
      { refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: 'prom' }, intervalMs: 15000, maxDataPoints: 800 },
      { refId: 'B', expr: 'rate(x[5m])', datasource: { type: 'prometheus', uid: 'other' }, intervalMs: 15000, maxDataPoints: 800 },
    ]);
  });

  it('leaves targets of a mixed panel on their own datasources', () => {
    const mixed = { ...panel, datasource: { type: 'datasource', uid: '-- Mixed --' }, targets: [{ refId: 'A', expr: 'up' }] };
    expect(panelQueries(mixed, 1000, 100)[0].datasource).toBeUndefined();
  });
});

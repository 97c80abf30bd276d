import { describe, expect, it } from 'vitest';
import type { PanelModel } from '../../dashboard/model';
import { addTarget, changePanelDatasource, duplicateTarget, findDatasource, MIXED_REF, nextRefId, removeTarget, setHidden, uniqueRefIds, type DatasourceInfo } from './targets';

const prom: DatasourceInfo = { uid: 'prom', name: 'Prometheus', type: 'prometheus', isDefault: true };
const prom2: DatasourceInfo = { uid: 'prom2', name: 'Other Prom', type: 'prometheus' };
const td: DatasourceInfo = { uid: 'td', name: 'TestData', type: 'grafana-testdata-datasource' };
const list = [prom, prom2, td];

describe('refIds', () => {
  it('allocates the first free letter', () => {
    expect(nextRefId([])).toBe('A');
    expect(nextRefId([{ refId: 'A' }, { refId: 'C' }])).toBe('B');
    const many = Array.from({ length: 26 }, (_, i) => ({ refId: String.fromCharCode(65 + i) }));
    expect(nextRefId(many)).toBe('AA');
    expect(nextRefId([...many, { refId: 'AA' }])).toBe('AB');
  });

  it('fixes missing and repeated refIds', () => {
    expect(uniqueRefIds([{ refId: 'A' }, { refId: 'A' }, {}, { refId: 'B' }]).map((t) => t.refId)).toEqual(['A', 'C', 'D', 'B']);
  });
});

describe('target list', () => {
  it('adds, removes and duplicates', () => {
    const one = addTarget([], { uid: 'td' });
    expect(one).toEqual([{ refId: 'A', datasource: { uid: 'td' } }]);
    const two = addTarget(one);
    expect(two[1]).toEqual({ refId: 'B' });
    const dup = duplicateTarget([{ refId: 'A', expr: 'up' }, { refId: 'B' }], 0);
    expect(dup).toEqual([{ refId: 'A', expr: 'up' }, { refId: 'C', expr: 'up' }, { refId: 'B' }]);
    expect(removeTarget(dup, 1).map((t) => t.refId)).toEqual(['A', 'B']);
  });

  it('hides with hide: true and shows by removing the key', () => {
    const hidden = setHidden([{ refId: 'A' }], 0, true);
    expect(hidden).toEqual([{ refId: 'A', hide: true }]);
    expect(setHidden(hidden, 0, false)).toEqual([{ refId: 'A' }]);
  });
});

describe('datasources', () => {
  it('finds by uid, name or default', () => {
    expect(findDatasource({ uid: 'td', type: 'x' }, list)).toBe(td);
    expect(findDatasource('Other Prom', list)).toBe(prom2);
    expect(findDatasource(null, list)).toBe(prom);
    expect(findDatasource({ type: 'grafana-testdata-datasource' }, list)).toBe(td);
    expect(findDatasource({ uid: '${DS}' }, list)).toBeUndefined();
  });

  const panel: PanelModel = { id: 1, type: 'timeseries', datasource: { type: 'prometheus', uid: 'prom' }, targets: [{ refId: 'A', expr: 'up' }, { refId: 'B', expr: 'rate(x[5m])' }] };

  it('keeps queries when the type stays the same', () => {
    const next = changePanelDatasource(panel, prom2, list);
    expect(next.datasource).toEqual({ type: 'prometheus', uid: 'prom2' });
    expect(next.targets).toEqual([
      { refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: 'prom2' } },
      { refId: 'B', expr: 'rate(x[5m])', datasource: { type: 'prometheus', uid: 'prom2' } },
    ]);
  });

  it('starts over when the type changes', () => {
    const next = changePanelDatasource(panel, td, list);
    expect(next.targets).toEqual([{ refId: 'A', datasource: { type: 'grafana-testdata-datasource', uid: 'td' } }]);
  });

  it('pins each query to its datasource when going mixed', () => {
    const next = changePanelDatasource({ ...panel, targets: [{ refId: 'A' }, { refId: 'B', datasource: { uid: 'td' } }] }, 'mixed', list);
    expect(next.datasource).toEqual(MIXED_REF);
    expect(next.targets).toEqual([
      { refId: 'A', datasource: { type: 'prometheus', uid: 'prom' } },
      { refId: 'B', datasource: { uid: 'td' } },
    ]);
  });
});

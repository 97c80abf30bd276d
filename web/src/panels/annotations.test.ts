import { describe, expect, it } from 'vitest';
import type { AlertAnnotation } from '../api/alerting';
import { annotationColor, annotationsByPanel, annotationsInRange, markerGroups, transitionText } from './annotations';

const at = (id: number, panelId: number | undefined, time: number, newState = 'Alerting', timeEnd?: number): AlertAnnotation => ({ id, panelId, time, timeEnd, newState, prevState: 'Normal' });

describe('alert annotations', () => {
  it('colours by the new state (red alerting, green normal, yellow pending)', () => {
    expect(annotationColor('Alerting')).toBe('#f2495c');
    expect(annotationColor('Normal')).toBe('#73bf69');
    expect(annotationColor('Normal (MissingSeries)')).toBe('#73bf69');
    expect(annotationColor('Pending')).toBe('#fade2a');
    expect(annotationColor('NoData')).toBe('#8e8e8e');
  });

  it('groups by panel, oldest first, dropping those without a panel', () => {
    const byPanel = annotationsByPanel([at(1, 2, 300), at(2, 2, 100), at(3, 5, 200), at(4, undefined, 50)]);
    expect([...byPanel.keys()]).toEqual([2, 5]);
    expect(byPanel.get(2)!.map((a) => a.id)).toEqual([2, 1]);
  });

  it('keeps points and regions that overlap the range', () => {
    const list = [at(1, 1, 50), at(2, 1, 150), at(3, 1, 50, 'Alerting', 120), at(4, 1, 250)];
    expect(annotationsInRange(list, 100, 200).map((a) => a.id)).toEqual([2, 3]);
  });

  it('writes the transition', () => {
    expect(transitionText({ prevState: 'Normal', newState: 'Alerting' })).toBe('Normal → Alerting');
    expect(transitionText({ newState: 'Alerting' })).toBe('Alerting');
  });
});

describe('marker groups', () => {
  it('puts annotations whose markers would overlap under one marker, Alerting winning the colour', () => {
    const list = [at(1, 1, 100, 'Alerting'), at(2, 1, 103, 'Pending'), at(3, 1, 200, 'Normal'), at(4, 1, 205, 'Normal'), at(5, 1, 400, 'Pending'), at(6, 1, 900, 'Normal')];
    const groups = markerGroups(list, (t) => (t > 800 ? undefined : t / 10));
    expect(groups.map((g) => [g.x, g.items.map((a) => a.id), g.state])).toEqual([
      [10, [1, 2], 'Alerting'],
      [20, [3, 4], 'Normal'],
      [40, [5], 'Pending'],
    ]);
  });
});

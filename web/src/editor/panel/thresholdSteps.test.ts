import { describe, expect, it } from 'vitest';
import type { Thresholds } from '../../lib/thresholds';
import { addStep, removeStep, setMode, setStepColor, setStepValue, sortSteps, thresholdsOrDefault } from './thresholdSteps';

const two: Thresholds = { mode: 'absolute', steps: [{ value: null, color: 'green' }, { value: 80, color: 'red' }] };

describe('threshold steps', () => {
  it('starts from Grafana default when a panel has none', () => {
    expect(thresholdsOrDefault(undefined)).toEqual(two);
    expect(thresholdsOrDefault({ steps: [] })).toEqual(two);
    const own: Thresholds = { mode: 'percentage', steps: [{ value: null, color: 'blue' }] };
    expect(thresholdsOrDefault(own)).toBe(own);
  });

  it('adds a step above the highest', () => {
    const next = addStep(two);
    expect(next.steps.map((s) => s.value)).toEqual([null, 80, 90]);
    expect(addStep({ steps: [{ value: null, color: 'green' }] }).steps.map((s) => s.value)).toEqual([null, 10]);
    expect(two.steps).toHaveLength(2);
  });

  it('never removes the base step', () => {
    expect(removeStep(two, 0)).toBe(two);
    expect(removeStep(two, 1).steps).toEqual([{ value: null, color: 'green' }]);
    expect(removeStep(two, 5)).toBe(two);
  });

  it('sets values (not on the base) and sorts on demand', () => {
    const three = addStep(two);
    const edited = setStepValue(three, 2, 50);
    expect(edited.steps.map((s) => s.value)).toEqual([null, 80, 50]);
    expect(sortSteps(edited).steps.map((s) => s.value)).toEqual([null, 50, 80]);
    expect(setStepValue(three, 0, 5)).toBe(three);
    expect(setStepValue(three, 1, NaN)).toBe(three);
  });

  it('keeps the base value null when sorting', () => {
    const odd: Thresholds = { steps: [{ value: 3, color: 'green' }, { value: 1, color: 'red' }] };
    expect(sortSteps(odd).steps).toEqual([{ value: null, color: 'green' }, { value: 1, color: 'red' }]);
  });

  it('sets colors and the mode', () => {
    expect(setStepColor(two, 0, '#ffffff').steps[0]).toEqual({ value: null, color: '#ffffff' });
    expect(setMode(two, 'percentage').mode).toBe('percentage');
  });
});

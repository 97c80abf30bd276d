import { describe, expect, it } from 'vitest';
import { resolveColor, thresholdColor, thresholdLevels, thresholdStepFor, type Thresholds } from './thresholds';

const absolute: Thresholds = {
  mode: 'absolute',
  steps: [
    { value: null, color: 'green' },
    { value: 70, color: 'orange' },
    { value: 90, color: '#ff0000' },
  ],
};

describe('thresholdStepFor', () => {
  it('uses the base step below the first threshold', () => {
    expect(thresholdStepFor(10, absolute).color).toBe('green');
    expect(thresholdStepFor(-1e9, absolute).color).toBe('green');
  });
  it('a value equal to a step takes that step', () => {
    expect(thresholdStepFor(70, absolute).color).toBe('orange');
    expect(thresholdStepFor(89.9, absolute).color).toBe('orange');
    expect(thresholdStepFor(90, absolute).color).toBe('#ff0000');
  });
  it('percentage mode places the value between min and max', () => {
    const pct: Thresholds = { mode: 'percentage', steps: [{ value: null, color: 'green' }, { value: 50, color: 'red' }] };
    expect(thresholdStepFor(400, pct, 0, 1000).color).toBe('green');
    expect(thresholdStepFor(500, pct, 0, 1000).color).toBe('red');
    expect(thresholdStepFor(15, pct, 10, 20).color).toBe('red');
    // Without min and max, percentages are of 0..100.
    expect(thresholdStepFor(49, pct).color).toBe('green');
  });
  it('falls back to Grafana defaults', () => {
    expect(thresholdStepFor(79).color).toBe('green');
    expect(thresholdStepFor(80).color).toBe('red');
    expect(thresholdStepFor(5, { steps: [] }).color).toBe('green');
  });
});

describe('colors', () => {
  it('resolves names and passes hex through', () => {
    expect(resolveColor('green')).toBe('#73BF69');
    expect(resolveColor('#123456')).toBe('#123456');
    expect(thresholdColor(95, absolute)).toBe('#ff0000');
  });
});

describe('thresholdLevels', () => {
  it('lists absolute positions without the base', () => {
    expect(thresholdLevels(absolute)).toEqual([
      { value: 70, color: '#FF9830' },
      { value: 90, color: '#ff0000' },
    ]);
    expect(thresholdLevels({ mode: 'percentage', steps: [{ value: null, color: 'green' }, { value: 50, color: 'red' }] }, 0, 200)).toEqual([{ value: 100, color: '#F2495C' }]);
  });
});

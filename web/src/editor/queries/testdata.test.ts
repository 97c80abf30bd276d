import { describe, expect, it } from 'vitest';
import { DEFAULT_PULSE, SCENARIOS, csvProblem, labelsProblem, parseNumber, scenarioOf, withScenario } from './testdata';

describe('scenarios', () => {
  it('offers exactly the scenarios the server answers', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual([
      'random_walk',
      'csv_metric_values',
      'predictable_pulse',
      'predictable_csv_wave',
      'no_data_points',
      'server_error_500',
    ]);
  });
  it('defaults to random walk', () => {
    expect(scenarioOf({})).toBe('random_walk');
    expect(scenarioOf({ scenarioId: ' ' })).toBe('random_walk');
    expect(scenarioOf({ scenarioId: 'no_data_points' })).toBe('no_data_points');
  });
  it('fills missing defaults and keeps everything else', () => {
    expect(withScenario({ refId: 'A', x: 1 }, 'predictable_pulse')).toEqual({ refId: 'A', x: 1, scenarioId: 'predictable_pulse', pulseWave: DEFAULT_PULSE });
    const own = { timeStep: 5, onCount: 1, offCount: 1, onValue: 1, offValue: 0 };
    expect(withScenario({ pulseWave: own }, 'predictable_pulse').pulseWave).toBe(own);
    expect(withScenario({}, 'random_walk')).toEqual({ scenarioId: 'random_walk' });
  });
});

describe('input checks', () => {
  it('parses numbers', () => {
    expect(parseNumber('')).toEqual({ value: undefined });
    expect(parseNumber(' 2.5 ')).toEqual({ value: 2.5 });
    expect(parseNumber('x')).toEqual({ error: '"x" is not a number' });
    expect(parseNumber('1.5', true)).toEqual({ error: '"1.5" is not a whole number' });
  });
  it('checks CSV values', () => {
    expect(csvProblem('1,20,null,,nan,3,')).toBeUndefined();
    expect(csvProblem('1,two')).toMatch(/"two"/);
  });
  it('checks labels', () => {
    expect(labelsProblem('job=a, instance=$seriesIndex')).toBeUndefined();
    expect(labelsProblem('{job="a"}')).toBeUndefined();
    expect(labelsProblem('job')).toMatch(/key=value/);
  });
});

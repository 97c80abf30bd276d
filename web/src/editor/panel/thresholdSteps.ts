// Editing Grafana's threshold steps: the first step is the base (value null, "everything below the
// next step"); the others are kept in ascending order of value.

import { DEFAULT_THRESHOLDS, type ThresholdStep, type Thresholds } from '../../lib/thresholds';

/** Colors given to new steps in turn, as Grafana's editor suggests them. */
const NEW_STEP_COLORS = ['#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0', '#508642'];

/** The thresholds a panel's editor starts from: its own, else Grafana's default (green, red at 80). */
export function thresholdsOrDefault(thresholds: Thresholds | undefined): Thresholds {
  if (!thresholds || !Array.isArray(thresholds.steps) || thresholds.steps.length === 0) return structuredClone(DEFAULT_THRESHOLDS);
  return thresholds;
}

/** Base first (value null), then by value; steps with equal values keep their order. */
export function sortSteps(thresholds: Thresholds): Thresholds {
  const [base, ...rest] = thresholds.steps;
  const sorted = rest.map((s, i) => ({ s, i })).sort((a, b) => (a.s.value ?? -Infinity) - (b.s.value ?? -Infinity) || a.i - b.i);
  return { ...thresholds, steps: [{ ...base, value: null }, ...sorted.map(({ s }) => s)] };
}

/** Adds a step 10 above the highest (10 when only the base exists), in the next suggested color. */
export function addStep(thresholds: Thresholds): Thresholds {
  const values = thresholds.steps.slice(1).map((s) => s.value ?? 0);
  const value = values.length === 0 ? 10 : Math.max(...values) + 10;
  const color = NEW_STEP_COLORS[(thresholds.steps.length - 1) % NEW_STEP_COLORS.length];
  return sortSteps({ ...thresholds, steps: [...thresholds.steps, { value, color }] });
}

/** Removes the step at `index`; the base step (index 0) stays. */
export function removeStep(thresholds: Thresholds, index: number): Thresholds {
  if (index <= 0 || index >= thresholds.steps.length) return thresholds;
  return { ...thresholds, steps: thresholds.steps.filter((_, i) => i !== index) };
}

function replaceStep(thresholds: Thresholds, index: number, change: (s: ThresholdStep) => ThresholdStep): Thresholds {
  return { ...thresholds, steps: thresholds.steps.map((s, i) => (i === index ? change(s) : s)) };
}

/**
 * Sets a step's value without re-sorting (the editor sorts when the input loses focus, so the row
 * being typed in does not jump). The base step's value stays null.
 */
export function setStepValue(thresholds: Thresholds, index: number, value: number): Thresholds {
  if (index <= 0 || !Number.isFinite(value)) return thresholds;
  return replaceStep(thresholds, index, (s) => ({ ...s, value }));
}

export function setStepColor(thresholds: Thresholds, index: number, color: string): Thresholds {
  return replaceStep(thresholds, index, (s) => ({ ...s, color }));
}

export function setMode(thresholds: Thresholds, mode: 'absolute' | 'percentage'): Thresholds {
  return { ...thresholds, mode };
}

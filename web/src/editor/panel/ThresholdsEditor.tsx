// Threshold steps, highest first as in Grafana, the base step ("Base", no value) last: a color and
// a value each, add and remove, absolute or percentage mode.

import { resolveColor, type Thresholds } from '../../lib/thresholds';
import { ChoiceButtons, NumberInput } from './fields';
import { addStep, removeStep, setMode, setStepColor, setStepValue, sortSteps, thresholdsOrDefault } from './thresholdSteps';

/** An <input type=color> needs #rrggbb; named colors are resolved, others shown as black. */
function hexOf(color: string): string {
  const resolved = resolveColor(color);
  if (/^#[0-9a-f]{6}$/i.test(resolved)) return resolved.toLowerCase();
  if (/^#[0-9a-f]{3}$/i.test(resolved)) return `#${[...resolved.slice(1)].map((c) => c + c).join('')}`.toLowerCase();
  return '#000000';
}

export function ThresholdsEditor({ value, onChange }: { value: Thresholds | undefined; onChange: (t: Thresholds) => void }) {
  const thresholds = thresholdsOrDefault(value);
  const order = thresholds.steps.map((_, i) => i).reverse();
  return (
    <div className="pe-thresholds">
      <button type="button" className="button" data-testid="threshold-add" onClick={() => onChange(addStep(thresholds))}>
        + Add threshold
      </button>
      <ul className="pe-threshold-list">
        {order.map((i) => {
          const step = thresholds.steps[i];
          return (
            <li key={i} className="pe-threshold" data-testid="threshold-step" data-index={i}>
              <input type="color" aria-label={i === 0 ? 'Base color' : `Color of step ${i}`} value={hexOf(step.color)} onChange={(e) => onChange(setStepColor(thresholds, i, e.target.value))} title={step.color} />
              {i === 0 ? (
                <span className="pe-threshold-base">Base</span>
              ) : (
                <NumberInput
                  testId="threshold-value"
                  ariaLabel={`Value of step ${i}`}
                  value={step.value ?? undefined}
                  placeholder="value"
                  onChange={(v) => v !== undefined && onChange(setStepValue(thresholds, i, v))}
                  onBlur={() => onChange(sortSteps(thresholds))}
                />
              )}
              {i > 0 && (
                <button type="button" className="button ghost" data-testid="threshold-remove" aria-label={`Remove step ${i}`} title="Remove" onClick={() => onChange(removeStep(thresholds, i))}>
                  ✕
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <ChoiceButtons
        label="Thresholds mode"
        testId="threshold-mode"
        value={thresholds.mode ?? 'absolute'}
        choices={[
          { value: 'absolute', label: 'Absolute' },
          { value: 'percentage', label: 'Percentage' },
        ]}
        onChange={(mode) => onChange(setMode(thresholds, mode))}
      />
    </div>
  );
}

// Small inputs of the options pane: a labelled row, a number input that lets "-" or "1." be typed
// on the way to a number, and a select over fixed choices.

import { useId, useState } from 'react';
import { numberOption } from './options';

export function OptionField({ label, description, children, htmlFor }: { label: string; description?: string; children: React.ReactNode; htmlFor?: string }) {
  return (
    <div className="pe-field">
      <label className="pe-label" htmlFor={htmlFor}>
        {label}
      </label>
      {description && <div className="pe-description">{description}</div>}
      {children}
    </div>
  );
}

/** A section of the options pane that can be folded. */
export function OptionSection({ title, children, open = true, testId }: { title: string; children: React.ReactNode; open?: boolean; testId?: string }) {
  return (
    <details className="pe-section" open={open} data-testid={testId}>
      <summary>{title}</summary>
      <div className="pe-section-body">{children}</div>
    </details>
  );
}

interface NumberInputProps {
  value: number | undefined;
  onChange: (value: number | undefined) => void;
  testId?: string;
  id?: string;
  placeholder?: string;
  min?: number;
  max?: number;
  step?: number;
  ariaLabel?: string;
  onBlur?: () => void;
}

/** Typed text is kept while it is not (yet) a number; a number or an empty field is applied at once. */
export function NumberInput({ value, onChange, testId, id, placeholder = 'auto', min, max, step, ariaLabel, onBlur }: NumberInputProps) {
  const [draft, setDraft] = useState<string | null>(null);
  const invalid = draft !== null && draft.trim() !== '' && numberOption(draft) === undefined;
  return (
    <input
      id={id}
      type="text"
      inputMode="decimal"
      data-testid={testId}
      aria-label={ariaLabel}
      aria-invalid={invalid || undefined}
      className={invalid ? 'pe-invalid' : undefined}
      placeholder={placeholder}
      value={draft ?? (value === undefined ? '' : String(value))}
      onChange={(e) => {
        const text = e.target.value;
        setDraft(text);
        const n = numberOption(text);
        if (text.trim() === '') onChange(undefined);
        else if (n !== undefined) onChange(min !== undefined || max !== undefined ? Math.min(max ?? Infinity, Math.max(min ?? -Infinity, n)) : n);
      }}
      onBlur={() => {
        setDraft(null);
        onBlur?.();
      }}
      step={step}
    />
  );
}

export interface Choice<T extends string> {
  value: T;
  label: string;
}

/** Grafana's radio button group: a row of toggle buttons, one pressed. */
export function ChoiceButtons<T extends string>({ value, choices, onChange, testId, label }: { value: T; choices: readonly Choice<T>[]; onChange: (v: T) => void; testId?: string; label: string }) {
  return (
    <div className="pe-choices" role="radiogroup" aria-label={label} data-testid={testId} data-value={value}>
      {choices.map((c) => (
        <button key={c.value} type="button" role="radio" aria-checked={c.value === value} data-value={c.value} onClick={() => onChange(c.value)}>
          {c.label}
        </button>
      ))}
    </div>
  );
}

export function SelectInput<T extends string>({ value, choices, onChange, testId, id }: { value: T; choices: readonly Choice<T>[]; onChange: (v: T) => void; testId?: string; id?: string }) {
  return (
    <select id={id} data-testid={testId} value={value} onChange={(e) => onChange(e.target.value as T)}>
      {choices.map((c) => (
        <option key={c.value} value={c.value}>
          {c.label}
        </option>
      ))}
    </select>
  );
}

/** An id for a label's `htmlFor`. */
export const useFieldId = useId;

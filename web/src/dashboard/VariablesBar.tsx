import { useEffect, useRef, useState } from 'react';
import { ALL_VALUE, selectionText, type VariableOption } from '../lib/variables';
import type { VariableState } from './useVariables';

interface Props {
  variables: VariableState[];
  onChange: (name: string, values: string[]) => void;
}

export function VariablesBar({ variables, onChange }: Props) {
  // hide: 2 hides the variable; constants are never shown (Grafana's behaviour).
  const visible = variables.filter((v) => v.model.hide !== 2 && v.model.type !== 'constant');
  if (visible.length === 0) return null;
  return (
    <div className="variables-bar" data-testid="variables-bar" role="group" aria-label="Dashboard variables">
      {visible.map((v) => (
        <VariableControl key={v.model.name} state={v} onChange={(values) => onChange(v.model.name, values)} />
      ))}
    </div>
  );
}

function VariableControl({ state, onChange }: { state: VariableState; onChange: (values: string[]) => void }) {
  const { model, options, selection, error } = state;
  const label = model.label || model.name;
  const id = `var-${model.name}`;
  const showLabel = model.hide !== 1;
  let control;
  if (model.type === 'textbox') {
    control = <TextboxControl id={id} label={label} value={selection[0] ?? ''} onChange={(v) => onChange([v])} />;
  } else if (model.multi) {
    control = <MultiSelect id={id} label={label} options={options} selection={selection} includeAll={!!model.includeAll} onChange={onChange} />;
  } else {
    control = (
      <select id={id} aria-label={showLabel ? undefined : label} value={selection[0] ?? ''} onChange={(e) => onChange([e.target.value])}>
        {model.includeAll && <option value={ALL_VALUE}>All</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.text}
          </option>
        ))}
        {options.length === 0 && !model.includeAll && <option value="">None</option>}
      </select>
    );
  }
  return (
    <div className="variable" data-testid="variable" data-variable={model.name} title={model.description}>
      {showLabel && (
        <label className="variable-label" htmlFor={id}>
          {label}
        </label>
      )}
      {control}
      {error && (
        <span className="variable-error" role="alert" title={error}>
          ⚠ {error}
        </span>
      )}
    </div>
  );
}

function TextboxControl({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  const [editingFrom, setEditingFrom] = useState(value);
  // A new value from outside (URL change) replaces the draft.
  if (editingFrom !== value) {
    setEditingFrom(value);
    setText(value);
  }
  return (
    <input
      id={id}
      aria-label={label}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={() => text !== value && onChange(text)}
      onKeyDown={(e) => e.key === 'Enter' && text !== value && onChange(text)}
    />
  );
}

function MultiSelect({ id, label, options, selection, includeAll, onChange }: { id: string; label: string; options: VariableOption[]; selection: string[]; includeAll: boolean; onChange: (values: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<string[]>(selection);
  const ref = useRef<HTMLDivElement>(null);

  // Grafana applies a multi-select when its menu closes, so choosing five values runs the queries once.
  const commitRef = useRef<() => void>(() => {});
  useEffect(() => {
    commitRef.current = () => {
      setOpen(false);
      if (draft.join('\u0000') !== selection.join('\u0000')) onChange(draft.length > 0 ? draft : selection);
    };
  });
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) commitRef.current();
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const toggle = (value: string) => {
    if (value === ALL_VALUE) return setDraft([ALL_VALUE]);
    const base = draft.filter((d) => d !== ALL_VALUE);
    setDraft(base.includes(value) ? base.filter((d) => d !== value) : [...base, value]);
  };

  return (
    <div className="menu" ref={ref}>
      <button
        id={id}
        type="button"
        className="button"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-label={`${label}: ${selectionText(selection, options)}`}
        onClick={() => {
          if (open) commitRef.current();
          else {
            setDraft(selection);
            setOpen(true);
          }
        }}
      >
        {selectionText(selection, options)} ▾
      </button>
      {open && (
        <div className="multi-select-menu" role="listbox" aria-multiselectable="true" aria-label={label}>
          {includeAll && (
            <label>
              <input type="checkbox" checked={draft.includes(ALL_VALUE)} onChange={() => toggle(ALL_VALUE)} />
              All
            </label>
          )}
          {options.map((o) => (
            <label key={o.value}>
              <input type="checkbox" checked={draft.includes(o.value)} onChange={() => toggle(o.value)} />
              {o.text}
            </label>
          ))}
        </div>
      )}
    </div>
  );
}

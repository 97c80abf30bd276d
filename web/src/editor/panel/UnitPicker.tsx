// The unit option: a searchable list of the units lib/units.ts formats (type to filter, arrows and
// Enter to pick); text that matches no unit can be kept as a custom unit, shown as a suffix.

import { useState } from 'react';
import { searchUnits, unitLabel, UNIT_OPTIONS, type UnitOption } from './unitOptions';

interface Props {
  value: string | undefined;
  onChange: (unit: string | undefined) => void;
  id?: string;
}

export function UnitPicker({ value, onChange, id }: Props) {
  /** The search text while the list is open; null while closed. */
  const [query, setQuery] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const open = query !== null;
  const exact = open ? UNIT_OPTIONS.find((u) => u.id === query.trim()) : undefined;
  const found = open ? searchUnits(query) : [];
  const matches: UnitOption[] = exact ? [exact, ...found.filter((u) => u !== exact)] : found;
  const custom = open && query.trim() !== '' && !exact ? query.trim() : undefined;
  // The custom entry comes last, after the matches.
  const count = matches.length + (custom ? 1 : 0);

  const pick = (unit: string | undefined) => {
    onChange(unit);
    setQuery(null);
  };

  return (
    <div className="pe-unit">
      <input
        id={id}
        type="text"
        role="combobox"
        aria-expanded={open}
        aria-controls={id ? `${id}-list` : undefined}
        aria-autocomplete="list"
        data-testid="option-unit"
        data-value={value ?? ''}
        placeholder="Choose or type a unit"
        value={query ?? unitLabel(value)}
        onFocus={(e) => {
          setQuery('');
          setActive(0);
          e.currentTarget.select();
        }}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onBlur={() => setQuery(null)}
        onKeyDown={(e) => {
          if (!open) return;
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(a + 1, count - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            if (active < matches.length) pick(matches[active].id);
            else if (custom) pick(custom);
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            setQuery(null);
          }
        }}
      />
      {value && !open && (
        <button type="button" className="pe-unit-clear" aria-label="Clear unit" title="Clear unit" onClick={() => pick(undefined)}>
          ✕
        </button>
      )}
      {open && count > 0 && (
        <ul className="pe-unit-list" role="listbox" id={id ? `${id}-list` : undefined}>
          {matches.map((u, i) => (
            // mousedown, not click: the input's blur (which closes the list) comes before click.
            <li key={u.id} role="option" aria-selected={i === active} data-testid="unit-option" data-unit={u.id} onMouseDown={(e) => (e.preventDefault(), pick(u.id))} onMouseEnter={() => setActive(i)}>
              <span>{u.label}</span>
              <span className="pe-unit-group">{u.group}</span>
            </li>
          ))}
          {custom && (
            <li role="option" aria-selected={active === matches.length} data-testid="unit-option" data-unit={custom} onMouseDown={(e) => (e.preventDefault(), pick(custom))} onMouseEnter={() => setActive(matches.length)}>
              <span>Custom unit: {custom}</span>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}

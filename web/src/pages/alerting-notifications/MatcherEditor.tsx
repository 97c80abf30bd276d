import { MATCH_OPERATORS, formatMatcher, type MatchOperator, type Matcher } from './matchers';

/** Rows of label, operator and value, with add and remove; blank rows are ignored on save. */
export function MatcherEditor({ matchers, onChange, testId }: { matchers: Matcher[]; onChange: (m: Matcher[]) => void; testId: string }) {
  const set = (i: number, change: Partial<Matcher>) => onChange(matchers.map((m, j) => (j === i ? { ...m, ...change } : m)));
  return (
    <div className="an-matcher-rows" data-testid={testId}>
      {matchers.map((m, i) => (
        <div className="an-matcher-row" key={i} data-testid={`${testId}-row`}>
          <input aria-label="Label" placeholder="label" data-testid={`${testId}-name`} value={m.name} onChange={(e) => set(i, { name: e.target.value })} />
          <select aria-label="Operator" data-testid={`${testId}-op`} value={m.operator} onChange={(e) => set(i, { operator: e.target.value as MatchOperator })}>
            {MATCH_OPERATORS.map((op) => (
              <option key={op} value={op}>
                {op}
              </option>
            ))}
          </select>
          <input aria-label="Value" placeholder="value" data-testid={`${testId}-value`} value={m.value} onChange={(e) => set(i, { value: e.target.value })} />
          <button type="button" className="button ghost" aria-label="Remove matcher" data-testid={`${testId}-remove`} onClick={() => onChange(matchers.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="button" data-testid={`${testId}-add`} onClick={() => onChange([...matchers, { name: '', operator: '=', value: '' }])}>
          Add matcher
        </button>
      </div>
    </div>
  );
}

/** Matchers as chips: `team=~"ops|dev"`. */
export function MatcherChips({ matchers, empty }: { matchers: Matcher[]; empty?: string }) {
  if (matchers.length === 0) return empty ? <span className="muted">{empty}</span> : null;
  return (
    <span className="an-matchers">
      {matchers.map((m, i) => (
        <code className="an-matcher" key={i} data-testid="matcher-chip">
          {formatMatcher(m)}
        </code>
      ))}
    </span>
  );
}

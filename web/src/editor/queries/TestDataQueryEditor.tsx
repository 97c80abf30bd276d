// The TestData query row: the scenario and the fields it reads (see testdata.ts).

import { DraftInput, Field } from './fields';
import { DEFAULT_CSV_WAVE, DEFAULT_PULSE, SCENARIOS, csvProblem, findScenario, labelsProblem, parseNumber, scenarioOf, withScenario, type TestDataField } from './testdata';
import { text, withKey, type QueryEditorProps, type Target } from './types';

type NumberField = Extract<TestDataField, 'seriesCount' | 'startValue' | 'min' | 'max' | 'spread' | 'noise' | 'dropPercent'>;

const NUMBER_FIELDS: { key: NumberField; label: string; whole?: boolean; placeholder?: string }[] = [
  { key: 'seriesCount', label: 'Series count', whole: true, placeholder: '1' },
  { key: 'startValue', label: 'Start value', placeholder: 'random' },
  { key: 'min', label: 'Min', placeholder: 'none' },
  { key: 'max', label: 'Max', placeholder: 'none' },
  { key: 'spread', label: 'Spread', placeholder: '1' },
  { key: 'noise', label: 'Noise', placeholder: '0' },
  { key: 'dropPercent', label: 'Drop (%)', placeholder: '0' },
];

const numberCheck = (whole?: boolean) => (v: string) => {
  const parsed = parseNumber(v, whole);
  return 'error' in parsed ? parsed.error : undefined;
};
const numberValue = (v: string) => {
  const parsed = parseNumber(v);
  return 'value' in parsed ? parsed.value : undefined;
};

export function TestDataQueryEditor({ query, onChange, onRunQuery }: QueryEditorProps) {
  // TestData is cheap and deterministic: every change runs at once, as in Grafana.
  const apply = (next: Target) => {
    onChange(next);
    onRunQuery();
  };
  const scenarioId = scenarioOf(query);
  const scenario = findScenario(scenarioId);
  const has = (field: TestDataField) => scenario?.fields.includes(field) ?? false;

  return (
    <>
      <div className="qe-options">
        <Field label="Scenario">
          <select data-testid="testdata-scenario" value={scenarioId} onChange={(e) => apply(withScenario(query, e.target.value))}>
            {SCENARIOS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
            {!scenario && <option value={scenarioId}>{scenarioId} (not supported by Pharos)</option>}
          </select>
        </Field>
        {has('alias') && (
          <Field label="Alias">
            <DraftInput testId="query-alias" value={text(query, 'alias')} onCommit={(v) => apply(withKey(query, 'alias', v || undefined))} />
          </Field>
        )}
        {has('labels') && (
          <Field label="Labels">
            <DraftInput
              testId="testdata-labels"
              value={text(query, 'labels')}
              placeholder="key=value, key2=value2"
              check={labelsProblem}
              onCommit={(v) => apply(withKey(query, 'labels', v.trim() || undefined))}
            />
          </Field>
        )}
      </div>
      {!scenario && <p className="qe-problem">Pharos does not serve the scenario "{scenarioId}"; choose another one.</p>}
      {has('seriesCount') && (
        <div className="qe-options">
          {NUMBER_FIELDS.map(({ key, label, whole, placeholder }) => (
            <Field key={key} label={label}>
              <DraftInput
                testId={`testdata-${key}`}
                value={text(query, key)}
                width="6em"
                placeholder={placeholder}
                check={numberCheck(whole)}
                onCommit={(v) => apply(withKey(query, key, numberValue(v)))}
              />
            </Field>
          ))}
          <Field label="Seed">
            <DraftInput testId="testdata-seed" value={text(query, 'seed')} width="8em" placeholder="from refId" onCommit={(v) => apply(withKey(query, 'seed', seedValue(v)))} />
          </Field>
        </div>
      )}
      {has('stringInput') && (
        <div className="qe-options">
          <Field label={scenarioId === 'server_error_500' ? 'String input (answers as CSV values instead of the error)' : 'String input'} wide>
            <DraftInput
              testId="testdata-string-input"
              value={text(query, 'stringInput')}
              placeholder="1,20,90,30,5,0"
              check={csvProblem}
              onCommit={(v) => apply(withKey(query, 'stringInput', v === '' && scenarioId === 'server_error_500' ? undefined : v))}
            />
          </Field>
        </div>
      )}
      {has('pulseWave') && <PulseFields query={query} apply={apply} />}
      {has('csvWave') && <CsvWaveFields query={query} apply={apply} />}
    </>
  );
}

/** A seed is a number when it reads as one, else its text (the server hashes strings). */
function seedValue(v: string): number | string | undefined {
  const t = v.trim();
  if (!t) return undefined;
  return /^\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : t;
}

const PULSE_FIELDS = [
  { key: 'timeStep', label: 'Step (s)' },
  { key: 'onCount', label: 'On count', whole: true },
  { key: 'onValue', label: 'On value', value: true },
  { key: 'offCount', label: 'Off count', whole: true },
  { key: 'offValue', label: 'Off value', value: true },
] as const;

/** A point value as the predictable scenarios take it: a number, `null` or `nan`. */
const pointCheck = (v: string) => (['null', 'nan', 'NaN'].includes(v.trim()) ? undefined : numberCheck()(v));
const pointValue = (v: string) => (['null', 'nan', 'NaN'].includes(v.trim()) ? v.trim() : numberValue(v));

function PulseFields({ query, apply }: { query: Target; apply: (t: Target) => void }) {
  const pulse = (query.pulseWave && typeof query.pulseWave === 'object' ? query.pulseWave : DEFAULT_PULSE) as Target;
  return (
    <div className="qe-options">
      {PULSE_FIELDS.map((f) => (
        <Field key={f.key} label={f.label}>
          <DraftInput
            testId={`testdata-pulse-${f.key}`}
            value={text(pulse, f.key)}
            width="6em"
            check={'value' in f ? pointCheck : numberCheck('whole' in f)}
            onCommit={(v) => apply({ ...query, pulseWave: withKey(pulse, f.key, 'value' in f ? pointValue(v) : numberValue(v)) })}
          />
        </Field>
      ))}
    </div>
  );
}

function CsvWaveFields({ query, apply }: { query: Target; apply: (t: Target) => void }) {
  const stored = query.csvWave;
  // Older saved queries hold one wave object rather than a list; it is written back as a list.
  const waves = (Array.isArray(stored) ? stored : stored && typeof stored === 'object' ? [stored] : DEFAULT_CSV_WAVE) as Target[];
  const setWaves = (next: Target[]) => apply({ ...query, csvWave: next });
  const setWave = (i: number, key: string, value: unknown) => setWaves(waves.map((w, j) => (j === i ? withKey(w, key, value) : w)));
  return (
    <div className="qe-waves">
      {waves.map((wave, i) => (
        <div key={i} className="qe-options" data-testid="testdata-wave">
          <Field label="Step (s)">
            <DraftInput testId="testdata-wave-step" value={text(wave, 'timeStep')} width="5em" check={numberCheck()} onCommit={(v) => setWave(i, 'timeStep', numberValue(v))} />
          </Field>
          <Field label="Values (CSV)">
            <DraftInput testId="testdata-wave-values" value={text(wave, 'valuesCSV')} check={(v) => (v.trim() ? csvProblem(v) : 'Give at least one value')} onCommit={(v) => setWave(i, 'valuesCSV', v)} />
          </Field>
          <Field label="Labels">
            <DraftInput testId="testdata-wave-labels" value={text(wave, 'labels')} check={labelsProblem} onCommit={(v) => setWave(i, 'labels', v.trim() || undefined)} />
          </Field>
          <Field label="Name">
            <DraftInput testId="testdata-wave-name" value={text(wave, 'name')} width="8em" onCommit={(v) => setWave(i, 'name', v || undefined)} />
          </Field>
          {waves.length > 1 && (
            <button type="button" className="button ghost" aria-label="Remove wave" onClick={() => setWaves(waves.filter((_, j) => j !== i))}>
              ×
            </button>
          )}
        </div>
      ))}
      <button type="button" className="button" data-testid="testdata-wave-add" onClick={() => setWaves([...waves, { ...DEFAULT_CSV_WAVE[0] }])}>
        + wave
      </button>
    </div>
  );
}

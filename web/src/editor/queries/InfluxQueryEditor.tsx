// The InfluxDB (InfluxQL) query row: a raw query, or Grafana's builder (measurement, field with an
// aggregation, tag conditions, GROUP BY), with alias and format in both modes.

import { createContext, useContext, useId, useState } from 'react';
import { DraftInput, Field } from './fields';
import {
  AGGREGATIONS,
  FILLS,
  OPERATORS,
  groupBy,
  renderInfluxQL,
  selectedField,
  selects,
  tagFilters,
  withBuilderDefaults,
  withGroupBy,
  withSelectedField,
  type TagFilter,
} from './influxql';
import { influxNames, metaQueries } from './influxMeta';
import { text, withKey, type QueryEditorProps, type Target } from './types';

/** GROUP BY time() choices offered (any other interval can be typed). */
const TIME_GROUPS = ['$__interval', '10s', '1m', '5m', '10m', '1h', '1d'];

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function InfluxQueryEditor({ datasource, query, onChange, onRunQuery }: QueryEditorProps) {
  const raw = query.rawQuery === true;
  // A new query shows (and on its first edit stores) the builder's defaults.
  const builder = withBuilderDefaults(query);
  const apply = (next: Target) => {
    onChange(next);
    // Without a measurement, or with a condition still missing its tag key, the builder's query
    // cannot run yet: wait for the rest rather than show an error for a half-made query.
    const ready =
      next.rawQuery === true ? text(next, 'query').trim() !== '' : text(next, 'measurement').trim() !== '' && tagFilters(next).every((t) => t.key);
    if (ready) onRunQuery();
  };
  const toggleRaw = () =>
    apply(raw ? { ...query, rawQuery: false } : { ...query, rawQuery: true, query: text(query, 'query') || renderInfluxQL(builder) });

  return (
    <>
      <div className="qe-options">
        <button type="button" className="button" data-testid="influx-raw-toggle" aria-pressed={raw} onClick={toggleRaw}>
          {raw ? 'Switch to builder' : 'Edit raw query'}
        </button>
        {raw && text(query, 'measurement') && <span className="qe-hint">The builder's fields are kept, but this raw text is what runs.</span>}
      </div>
      {raw ? (
        <RawQuery value={text(query, 'query')} onCommit={(q) => onChange({ ...query, query: q })} onRun={(q) => apply({ ...query, query: q })} />
      ) : (
        <Builder uid={datasource.uid} target={builder} apply={apply} />
      )}
      <div className="qe-options">
        <Field label="Alias">
          <DraftInput testId="query-alias" value={text(query, 'alias')} placeholder="$m.$col $tag_host" onCommit={(alias) => apply(withKey(query, 'alias', alias || undefined))} />
        </Field>
        <Field label="Format as">
          <select data-testid="query-format" value={text(query, 'resultFormat', 'time_series')} onChange={(e) => apply({ ...query, resultFormat: e.target.value })}>
            <option value="time_series">Time series</option>
            <option value="table">Table</option>
            <option value="logs">Logs</option>
          </select>
        </Field>
      </div>
    </>
  );
}

/** The raw InfluxQL: handed over on blur; Shift+Enter hands it over and runs it. */
function RawQuery({ value, onCommit, onRun }: { value: string; onCommit: (q: string) => void; onRun: (q: string) => void }) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setDraft(value);
  }
  return (
    <textarea
      className="qe-code"
      data-testid="influx-query"
      aria-label="InfluxQL query"
      rows={3}
      spellCheck={false}
      value={draft}
      placeholder={'SELECT mean("value") FROM "measurement" WHERE $timeFilter GROUP BY time($__interval) fill(null)'}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => draft !== value && onCommit(draft)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && e.shiftKey) {
          e.preventDefault();
          onRun(draft);
        }
      }}
    />
  );
}

interface BuilderProps {
  uid: string;
  target: Target;
  apply: (next: Target) => void;
}

function Builder({ uid, target, apply }: BuilderProps) {
  const measurement = text(target, 'measurement');
  const policy = text(target, 'policy');
  const { field, aggregation } = selectedField(target);
  const group = groupBy(target);
  const tags = tagFilters(target);
  const extraSelects = selects(target).length - 1;
  const setTags = (next: TagFilter[]) => apply({ ...target, tags: next });
  const setTag = (i: number, patch: Partial<TagFilter>) => setTags(tags.map((t, j) => (j === i ? { ...t, ...patch } : t)));
  const needsMeasurement = (load: () => Promise<string[]>) => () => (measurement ? load() : Promise.resolve([]));
  const [suggestError, setSuggestError] = useState<string>();
  const intervalsId = useId();

  return (
    <SuggestErrorContext value={setSuggestError}>
      <div className="qe-builder">
        <div className="qe-options">
          <span className="qe-keyword">FROM</span>
          <Field label="Policy">
            <SuggestInput testId="influx-policy" value={policy} width="8em" load={() => influxNames(uid, metaQueries.retentionPolicies())} onCommit={(p) => apply({ ...target, policy: p || 'default' })} />
          </Field>
          <Field label="Measurement">
            <SuggestInput testId="influx-measurement" value={measurement} placeholder="select measurement" load={() => influxNames(uid, metaQueries.measurements())} onCommit={(m) => apply({ ...target, measurement: m })} />
          </Field>
        </div>

        <div className="qe-options">
          <span className="qe-keyword">WHERE</span>
          {tags.map((tag, i) => (
            <span key={i} className="qe-tag" data-testid="influx-tag">
              {i > 0 && (
                <select aria-label="Join" value={tag.condition || 'AND'} onChange={(e) => setTag(i, { condition: e.target.value })}>
                  <option>AND</option>
                  <option>OR</option>
                </select>
              )}
              <SuggestInput testId="influx-tag-key" aria-label="Tag key" value={tag.key} width="8em" load={needsMeasurement(() => influxNames(uid, metaQueries.tagKeys(measurement, policy)))} onCommit={(key) => setTag(i, { key })} />
              <select data-testid="influx-tag-operator" aria-label="Operator" value={tag.operator || '='} onChange={(e) => setTag(i, { operator: e.target.value })}>
                {OPERATORS.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
              <SuggestInput
                testId="influx-tag-value"
                aria-label="Tag value"
                value={tag.value}
                width="8em"
                load={needsMeasurement(() => (tag.key ? influxNames(uid, metaQueries.tagValues(measurement, policy, tag.key), 1) : Promise.resolve([])))}
                onCommit={(value) => setTag(i, { value })}
              />
              <button type="button" className="button ghost" data-testid="influx-tag-remove" aria-label="Remove condition" onClick={() => setTags(tags.filter((_, j) => j !== i))}>
                ×
              </button>
            </span>
          ))}
          <button type="button" className="button" data-testid="influx-tag-add" onClick={() => setTags([...tags, { key: '', operator: '=', value: '', ...(tags.length ? { condition: 'AND' } : {}) }])}>
            + condition
          </button>
        </div>

        <div className="qe-options">
          <span className="qe-keyword">SELECT</span>
          <Field label="Field">
            <SuggestInput testId="influx-field" value={field} width="10em" load={needsMeasurement(() => influxNames(uid, metaQueries.fieldKeys(measurement, policy)))} onCommit={(f) => apply(withSelectedField(target, f, aggregation))} />
          </Field>
          <Field label="Aggregation">
            <select data-testid="influx-aggregation" value={aggregation} onChange={(e) => apply(withSelectedField(target, field, e.target.value))}>
              <option value="">none</option>
              {AGGREGATIONS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </Field>
          {extraSelects > 0 && <span className="qe-hint">{extraSelects} more field(s) in this query are kept; edit them in raw mode.</span>}
        </div>

        <div className="qe-options">
          <span className="qe-keyword">GROUP BY</span>
          <Field label="Time">
            <DraftInput
              testId="influx-group-time"
              value={group.time}
              width="8em"
              placeholder="none"
              list={intervalsId}
              onCommit={(time) => apply(withGroupBy(target, { ...group, time: time.trim() }))}
            />
            <datalist id={intervalsId}>
              {TIME_GROUPS.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </Field>
          <Field label="Tags">
            <DraftInput
              testId="influx-group-tags"
              value={group.tags.join(', ')}
              placeholder="host, region"
              onCommit={(t) => apply(withGroupBy(target, { ...group, tags: t.split(',').map((s) => s.trim()).filter(Boolean) }))}
            />
          </Field>
          <Field label="Fill">
            <select data-testid="influx-fill" value={group.fill} disabled={!group.time} onChange={(e) => apply(withGroupBy(target, { ...group, fill: e.target.value }))}>
              <option value="">none given</option>
              {FILLS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </Field>
        </div>

        <pre className="qe-preview" data-testid="influx-preview">
          {renderInfluxQL(target)}
        </pre>
        {suggestError && (
          <p className="qe-hint" data-testid="influx-suggest-error">
            {suggestError}
          </p>
        )}
      </div>
    </SuggestErrorContext>
  );
}

interface SuggestInputProps {
  value: string;
  onCommit: (value: string) => void;
  /** The suggestions, asked for when the input gets focus. */
  load: () => Promise<string[]>;
  testId?: string;
  placeholder?: string;
  width?: string;
  'aria-label'?: string;
}

/** Where a builder's inputs report failed suggestions, so the builder shows one message, not one per input. */
const SuggestErrorContext = createContext<(error: string | undefined) => void>(() => {});

/** A draft input with the datasource's names as a native suggestion list. */
function SuggestInput({ load, ...props }: SuggestInputProps) {
  const listId = useId();
  const [options, setOptions] = useState<string[]>([]);
  const reportError = useContext(SuggestErrorContext);
  const fetchOptions = () =>
    load().then(
      (names) => {
        setOptions(names);
        reportError(undefined);
      },
      (e) => reportError(`No suggestions from the datasource: ${errorText(e)}`),
    );
  return (
    <>
      <DraftInput {...props} list={listId} onFocus={fetchOptions} />
      <datalist id={listId}>
        {options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </>
  );
}

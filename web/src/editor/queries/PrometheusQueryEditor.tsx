// The Prometheus query row: the PromQL code editor and Grafana's query options below it.

import { lazy, Suspense } from 'react';
import { DraftInput, Field } from './fields';
import { FORMATS, legendFormatFor, legendMode, minStepProblem, queryType, withQueryType, type LegendMode, type QueryType } from './promOptions';
import { text, withKey, type QueryEditorProps, type Target } from './types';

// CodeMirror and the PromQL language are a chunk of their own, fetched when a Prometheus query shows.
const PromQLInput = lazy(() => import('./PromQLInput'));

export function PrometheusQueryEditor({ datasource, query, onChange, onRunQuery }: QueryEditorProps) {
  const expr = text(query, 'expr');
  /** Options apply at once and run, as in Grafana. */
  const apply = (next: Target) => {
    onChange(next);
    onRunQuery();
  };
  const mode = legendMode(query);
  return (
    <>
      <Suspense fallback={<div className="promql-input promql-loading" aria-busy="true">Loading editor…</div>}>
        <PromQLInput
          datasourceUid={datasource.uid}
          expr={expr}
          onBlur={(next) => next !== expr && onChange({ ...query, expr: next })}
          onRun={(next) => {
            if (next !== expr) onChange({ ...query, expr: next });
            onRunQuery();
          }}
        />
      </Suspense>
      <div className="qe-options">
        <Field label="Legend">
          <select
            data-testid="query-legend"
            value={mode}
            title="Auto: only the labels that tell series apart. Verbose: the whole series name. Custom: a template like {{instance}}."
            onChange={(e) => apply({ ...query, legendFormat: legendFormatFor(e.target.value as LegendMode, query) })}
          >
            <option value="auto">Auto</option>
            <option value="verbose">Verbose</option>
            <option value="custom">Custom</option>
          </select>
        </Field>
        {mode === 'custom' && (
          <Field label="Legend format">
            <DraftInput
              testId="query-legend-format"
              value={text(query, 'legendFormat')}
              placeholder="{{label_name}}"
              onCommit={(legendFormat) => apply({ ...query, legendFormat })}
            />
          </Field>
        )}
        <Field label="Min step">
          <DraftInput
            testId="query-min-step"
            value={text(query, 'interval')}
            placeholder="auto"
            width="8em"
            warn={minStepProblem}
            onCommit={(interval) => apply(withKey(query, 'interval', interval.trim() || undefined))}
          />
        </Field>
        <Field label="Format">
          <select data-testid="query-format" value={text(query, 'format', 'time_series')} onChange={(e) => apply({ ...query, format: e.target.value })}>
            {FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Type">
          <select data-testid="query-type" value={queryType(query)} onChange={(e) => apply(withQueryType(query, e.target.value as QueryType))}>
            <option value="range">Range</option>
            <option value="instant">Instant</option>
            <option value="both">Both</option>
          </select>
        </Field>
      </div>
    </>
  );
}

// Resolves the dashboard's variables in dependency order: each one's options (from its definition,
// the org's datasources or POST /api/ds/variable-options) and its selection (URL, else saved, else
// first option). Option lists are cached by everything they depend on, so changing one variable only
// reloads the variables that reference it.

import { useEffect, useRef, useState } from 'react';
import { frontendSettings, variableOptions, type RequestVariables } from '../api/query';
import { AUTO_INTERVAL_PREFIX, autoInterval } from '../lib/interval';
import { parseDuration, resolveRange } from '../lib/time';
import { ALL_VALUE, customOptions, dependencies, interpolateDisplay, dependencyOrder, initialSelection, pickSelection, queryText, requestValue, type VariableModel, type VariableOption } from '../lib/variables';

export interface VariableState {
  model: VariableModel;
  options: VariableOption[];
  selection: string[];
  error?: string;
}

export interface ResolvedVariables {
  states: VariableState[];
  /** The values queries see, by name. */
  values: RequestVariables;
  ready: boolean;
  /** The URL's variables these selections were resolved from (JSON), to tell a stale resolution from a current one. */
  resolvedFrom?: string;
}

async function datasourceOptions(v: VariableModel): Promise<VariableOption[]> {
  const settings = await frontendSettings();
  const type = queryText(v);
  const regex = v.regex ? new RegExp(v.regex.replace(/^\/(.*)\/[a-z]*$/, '$1')) : undefined;
  return Object.values(settings.datasources)
    .filter((ds) => ds.type === type && ds.uid && (!regex || regex.test(ds.name)))
    .map((ds) => ({ text: ds.name, value: ds.uid }));
}

export function useVariables(models: readonly VariableModel[], fromUrl: Record<string, string[]>, range: { from: string; to: string }): ResolvedVariables {
  const [resolved, setResolved] = useState<ResolvedVariables>({ states: [], values: {}, ready: models.length === 0 });
  const cache = useRef(new Map<string, Promise<VariableOption[]>>());
  const urlKey = JSON.stringify(fromUrl);
  // Query variables refreshed on time change, and interval variables' "auto", follow the range.
  const needsRange = models.some((m) => (m.type === 'query' && m.refresh === 2) || (m.type === 'interval' && m.auto));
  const rangeKey = needsRange ? `${range.from}|${range.to}` : '';

  useEffect(() => {
    let cancelled = false;
    const wantedByName = JSON.parse(urlKey) as Record<string, string[]>;
    (async () => {
      const values: RequestVariables = {};
      const states: VariableState[] = [];
      for (const v of dependencyOrder(models)) {
        let options: VariableOption[] = [];
        let error: string | undefined;
        let wanted = initialSelection(v, wantedByName[v.name]);
        try {
          switch (v.type) {
            case 'custom':
              // A custom list may reference variables resolved before it.
              options = customOptions(interpolateDisplay(queryText(v), values));
              break;
            case 'interval':
              options = customOptions(interpolateDisplay(queryText(v), values));
              if (v.auto) options.unshift({ text: 'auto', value: AUTO_INTERVAL_PREFIX + v.name });
              break;
            case 'constant':
            case 'textbox': {
              const text = v.type === 'constant' ? queryText(v) : (wanted[0] ?? queryText(v));
              options = [{ text, value: text }];
              wanted = [text];
              break;
            }
            case 'datasource': {
              options = await datasourceOptions(v);
              // Old links name the datasource; options are keyed by uid.
              wanted = wanted.map((w) => options.find((o) => o.text === w)?.value ?? w);
              break;
            }
            case 'query': {
              // "Never" refresh: the options saved with the dashboard are the list, as in Grafana.
              if (v.refresh === 0 && v.options && v.options.length > 0) {
                options = v.options.map((o) => ({ text: String(o.text), value: String(o.value) })).filter((o) => o.value !== ALL_VALUE);
                break;
              }
              const deps = Object.fromEntries(dependencies(v, models).map((d) => [d, values[d]]));
              const request = { datasource: v.datasource, query: v.query ?? '', regex: v.regex || undefined, sort: v.sort, from: range.from, to: range.to, variables: deps };
              const key = JSON.stringify([v.name, request.datasource, request.query, request.regex, request.sort, deps, v.refresh === 2 ? rangeKey : '']);
              let pending = cache.current.get(key);
              if (!pending) {
                pending = variableOptions(request).then((r) => r.options);
                cache.current.set(key, pending);
                pending.catch(() => cache.current.delete(key));
              }
              options = await pending;
              break;
            }
            default:
              options = (v.options ?? []).map((o) => ({ text: String(o.text), value: String(o.value) }));
          }
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        const selection = pickSelection(options, wanted, v);
        states.push({ model: v, options, selection, error });
        values[v.name] = requestValue(v, selection, options);
        if (v.type === 'interval' && values[v.name] === AUTO_INTERVAL_PREFIX + v.name) {
          const r = resolveRange(range);
          values[v.name] = autoInterval(r ? r.to - r.from : 6 * 3600000, v.auto_count ?? 30, parseDuration(v.auto_min ?? '10s') ?? 10000);
        }
      }
      if (!cancelled) setResolved({ states, values, ready: true, resolvedFrom: urlKey });
    })();
    return () => {
      cancelled = true;
    };
    // range.from/to only matter through rangeKey (variables refreshed on time change).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [models, urlKey, rangeKey]);

  return resolved;
}

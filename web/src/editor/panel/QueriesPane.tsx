// The panel editor's queries: the panel's datasource (or "-- Mixed --"), one row per target with
// the datasource's query editor, and add, duplicate, hide, remove and run.

import type { DatasourceRef } from '../../api/query';
import type { PanelModel } from '../../dashboard/model';
import { QueryEditor } from '../queries';
import { addTarget, changePanelDatasource, duplicateTarget, findDatasource, isMixed, MIXED_UID, refOf, removeTarget, replaceTarget, setHidden, type DatasourceInfo, type Target } from './targets';
import type { DatasourceList } from './useDatasources';

interface Props {
  panel: PanelModel;
  datasources: DatasourceList;
  onChange: (change: (p: PanelModel) => PanelModel) => void;
  /** Runs the queries now (the Refresh button, a query editor's Shift+Enter or blur). */
  onRun: () => void;
}

/** The value an unresolved reference (a `${ds}` variable, a deleted datasource) has in a select. */
const UNRESOLVED = '__unresolved__';

const refText = (ref: DatasourceRef) => (typeof ref === 'string' ? ref : (ref?.uid ?? ''));

/** What a query editor is told about its datasource: the resolved one, else the reference as it is. */
function editorDatasource(ref: DatasourceRef, list: readonly DatasourceInfo[]): { uid: string; type: string } {
  const ds = findDatasource(ref, list);
  if (ds) return { uid: ds.uid, type: ds.type };
  return { uid: refText(ref), type: (typeof ref === 'object' && ref?.type) || 'unknown' };
}

function DatasourceOptions({ list }: { list: readonly DatasourceInfo[] }) {
  return list.map((d) => (
    <option key={d.uid} value={d.uid}>
      {d.name}
      {d.isDefault ? ' (default)' : ''}
    </option>
  ));
}

export function QueriesPane({ panel, datasources, onChange, onRun }: Props) {
  const { list } = datasources;
  const targets = panel.targets ?? [];
  const mixed = isMixed(panel.datasource);
  const panelDs = mixed ? undefined : findDatasource(panel.datasource, list);
  const unresolvedPanelRef = !mixed && !panelDs && panel.datasource ? refText(panel.datasource) : undefined;
  const setTargets = (change: (t: Target[]) => Target[]) => onChange((p) => ({ ...p, targets: change(p.targets ?? []) }));
  // Keys that survive removing a row above; a repeated refId (old dashboards) falls back to the index.
  const keys = targets.map((t, i) => (targets.findIndex((o) => o.refId === t.refId) === i ? `ref-${String(t.refId)}` : `index-${i}`));

  // In a mixed panel a new query names its datasource: the default one to start with.
  const addQuery = () => {
    const initial = mixed ? findDatasource(undefined, list) : undefined;
    setTargets((t) => addTarget(t, initial ? refOf(initial) : undefined));
  };

  const choosePanelDatasource = (uid: string) => {
    if (uid === UNRESOLVED) return;
    if (uid === MIXED_UID) return onChange((p) => changePanelDatasource(p, 'mixed', list));
    const ds = list.find((d) => d.uid === uid);
    if (ds) onChange((p) => changePanelDatasource(p, ds, list));
  };

  return (
    <section className="pe-queries" aria-label="Queries">
      <div className="pe-queries-toolbar">
        <label className="pe-inline-label" htmlFor="pe-datasource">
          Data source
        </label>
        <select id="pe-datasource" data-testid="panel-editor-datasource" value={mixed ? MIXED_UID : (panelDs?.uid ?? UNRESOLVED)} onChange={(e) => choosePanelDatasource(e.target.value)} disabled={datasources.loading}>
          {datasources.loading && <option value={UNRESOLVED}>Loading…</option>}
          {!datasources.loading && !panelDs && !mixed && <option value={UNRESOLVED}>{unresolvedPanelRef ? `${unresolvedPanelRef} (not found)` : 'Choose a data source'}</option>}
          <DatasourceOptions list={list} />
          <option value={MIXED_UID}>-- Mixed --</option>
        </select>
        {datasources.error && (
          <span className="form-error" role="alert">
            Data sources could not be loaded: {datasources.error}
          </span>
        )}
        <span className="pe-spacer" />
        <button type="button" className="button" data-testid="query-run" onClick={onRun} title="Run the queries now">
          ⟳ Refresh
        </button>
      </div>

      <div className="pe-query-list">
        {targets.map((target, index) => {
          const refId = String(target.refId ?? '');
          const hidden = target.hide === true;
          const targetRef = (target.datasource as DatasourceRef) ?? (mixed ? undefined : panel.datasource);
          const ds = editorDatasource(targetRef, list);
          return (
            <div key={keys[index]} className={`pe-query-row${hidden ? ' hidden' : ''}`} data-testid="query-row" data-ref-id={refId} data-hidden={hidden ? 'true' : 'false'}>
              <div className="pe-query-header">
                <strong className="pe-ref-id">{refId}</strong>
                {mixed ? (
                  <select
                    aria-label={`Data source of query ${refId}`}
                    data-testid="query-datasource"
                    value={findDatasource(targetRef, list)?.uid ?? UNRESOLVED}
                    onChange={(e) => {
                      const next = list.find((d) => d.uid === e.target.value);
                      if (!next) return;
                      // Another type cannot read this query: start it over, keeping its refId.
                      const keep = next.type === ds.type;
                      setTargets((t) => replaceTarget(t, index, keep ? { ...t[index], datasource: refOf(next) } : { refId: t[index].refId, datasource: refOf(next) }));
                    }}
                  >
                    {!findDatasource(targetRef, list) && <option value={UNRESOLVED}>{refText(targetRef) || 'Choose'}</option>}
                    <DatasourceOptions list={list} />
                  </select>
                ) : (
                  <span className="muted">{panelDs?.name ?? ''}</span>
                )}
                {hidden && <span className="muted">(hidden: not sent)</span>}
                <span className="pe-spacer" />
                <button type="button" className="button ghost" data-testid="query-duplicate" title="Duplicate query" aria-label={`Duplicate query ${refId}`} onClick={() => setTargets((t) => duplicateTarget(t, index))}>
                  Duplicate
                </button>
                <button type="button" className="button ghost" data-testid="query-hide" aria-pressed={hidden} title={hidden ? 'Show query (send it)' : 'Hide query (do not send it)'} aria-label={`${hidden ? 'Show' : 'Hide'} query ${refId}`} onClick={() => (setTargets((t) => setHidden(t, index, !hidden)), onRun())}>
                  {hidden ? 'Show' : 'Hide'}
                </button>
                <button type="button" className="button ghost" data-testid="query-remove" title="Remove query" aria-label={`Remove query ${refId}`} onClick={() => (setTargets((t) => removeTarget(t, index)), onRun())}>
                  Remove
                </button>
              </div>
              <QueryEditor datasource={ds} query={target} onChange={(next) => setTargets((t) => replaceTarget(t, index, next))} onRunQuery={onRun} />
            </div>
          );
        })}
        {targets.length === 0 && <p className="muted">No queries: add one to see data.</p>}
      </div>
      <div>
        <button type="button" className="button" data-testid="query-add" onClick={addQuery}>
          + Add query
        </button>
      </div>
    </section>
  );
}

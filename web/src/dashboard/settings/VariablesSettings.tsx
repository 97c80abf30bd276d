import { useState } from 'react';
import { queryText, type VariableModel } from '../../lib/variables';
import { useDashboardEditor } from '../editor';
import { VariableEditor } from './VariableEditor';
import { duplicateVariable, moveItem, newVariable, TYPE_LABELS, type VariableType } from './variableModel';

const NO_VARIABLES: VariableModel[] = [];

/** Variables: the list (reorder, duplicate, delete, add) and the editor of one variable. */
export function VariablesSettings() {
  const { dashboard, update } = useDashboardEditor();
  const list = dashboard.templating?.list ?? NO_VARIABLES;
  const [editing, setEditing] = useState<number>();
  const setList = (change: (list: VariableModel[]) => VariableModel[]) => update((d) => ({ ...d, templating: { ...d.templating, list: change(d.templating?.list ?? []) } }));

  if (editing !== undefined && list[editing]) {
    return <VariableEditor key={editing} index={editing} onBack={() => setEditing(undefined)} />;
  }

  const add = () => {
    setList((l) => [...l, newVariable(l)]);
    setEditing(list.length);
  };

  return (
    <div className="settings-form wide">
      <h2>Variables</h2>
      {list.length === 0 ? (
        <p className="settings-empty">Variables make a dashboard interactive: a value chosen at the top of the dashboard is used in its queries and titles.</p>
      ) : (
        <table className="variables-table">
          <thead>
            <tr>
              <th>Variable</th>
              <th>Type</th>
              <th>Definition</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((v, i) => (
              <tr key={`${i}-${v.name}`} data-testid="variable-list-item" data-variable={v.name}>
                <td>
                  <button type="button" className="link-button" data-testid="variable-edit" onClick={() => setEditing(i)}>
                    ${v.name}
                  </button>
                </td>
                <td>{TYPE_LABELS[v.type as VariableType] ?? v.type}</td>
                <td>
                  <span className="variable-definition" title={definitionOf(v)}>
                    {definitionOf(v)}
                  </span>
                </td>
                <td className="variable-row-actions">
                  <button type="button" className="button ghost" aria-label={`Move ${v.name} up`} data-testid="variable-up" disabled={i === 0} onClick={() => setList((l) => moveItem(l, i, -1))}>
                    ↑
                  </button>
                  <button type="button" className="button ghost" aria-label={`Move ${v.name} down`} data-testid="variable-down" disabled={i === list.length - 1} onClick={() => setList((l) => moveItem(l, i, 1))}>
                    ↓
                  </button>
                  <button type="button" className="button ghost" aria-label={`Duplicate ${v.name}`} data-testid="variable-duplicate" onClick={() => setList((l) => duplicateVariable(l, i))}>
                    Duplicate
                  </button>
                  <button type="button" className="button ghost" aria-label={`Delete ${v.name}`} data-testid="variable-delete" onClick={() => setList((l) => l.filter((_, j) => j !== i))}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div>
        <button type="button" className="button primary" data-testid="variable-new" onClick={add}>
          New variable
        </button>
      </div>
    </div>
  );
}

function definitionOf(v: VariableModel): string {
  const definition = (v as { definition?: unknown }).definition;
  return typeof definition === 'string' && definition ? definition : queryText(v);
}

import { useState } from 'react';
import { useDashboardEditor } from './editor';
import './edit.css';

/**
 * The dashboard's editing buttons: "Edit" for someone who may save; in edit mode Add (visualization
 * or row), Settings, Save and Exit, as Grafana 11's toolbar. Leaving with unsaved changes asks first.
 */
export function EditToolbar() {
  const editor = useDashboardEditor();
  const [addOpen, setAddOpen] = useState(false);
  const [confirmExit, setConfirmExit] = useState(false);
  if (editor.meta.canSave === false && editor.meta.canEdit === false) return null;

  if (!editor.editing) {
    return (
      <button type="button" className="button" data-testid="dashboard-edit" onClick={() => editor.setEditing(true)}>
        Edit
      </button>
    );
  }

  const exit = () => {
    editor.openPanel(undefined);
    editor.openSettings(undefined);
    editor.setEditing(false);
    setConfirmExit(false);
  };

  return (
    <div className="edit-toolbar" role="toolbar" aria-label="Dashboard editing">
      <div className="menu-anchor">
        <button type="button" className="button" data-testid="dashboard-add" aria-haspopup="menu" aria-expanded={addOpen} onClick={() => setAddOpen(!addOpen)}>
          Add ▾
        </button>
        {addOpen && (
          <ul className="dropdown" role="menu" onMouseLeave={() => setAddOpen(false)}>
            <li role="none">
              <button
                type="button"
                role="menuitem"
                data-testid="add-visualization"
                onClick={() => {
                  setAddOpen(false);
                  editor.openPanel(editor.addPanel(), 'edit');
                }}
              >
                Visualization
              </button>
            </li>
            <li role="none">
              <button
                type="button"
                role="menuitem"
                data-testid="add-row"
                onClick={() => {
                  setAddOpen(false);
                  editor.addRow();
                }}
              >
                Row
              </button>
            </li>
          </ul>
        )}
      </div>
      <button type="button" className="button" data-testid="dashboard-settings-button" onClick={() => editor.openSettings('settings')}>
        Settings
      </button>
      <button type="button" className={`button${editor.dirty ? ' primary' : ''}`} data-testid="dashboard-save" onClick={editor.openSave}>
        Save dashboard
      </button>
      <button type="button" className="button" data-testid="dashboard-exit-edit" onClick={() => (editor.dirty ? setConfirmExit(true) : exit())}>
        Exit edit
      </button>
      {confirmExit && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-modal="true" aria-labelledby="unsaved-title" data-testid="unsaved-dialog">
            <h2 id="unsaved-title">Unsaved changes</h2>
            <p>Do you want to save your changes before leaving edit mode?</p>
            <div className="modal-buttons">
              <button type="button" className="button danger" data-testid="unsaved-discard" onClick={() => (editor.discard(), exit())}>
                Discard
              </button>
              <button type="button" className="button" data-testid="unsaved-cancel" onClick={() => setConfirmExit(false)}>
                Cancel
              </button>
              <button type="button" className="button primary" data-testid="unsaved-save" onClick={() => (setConfirmExit(false), editor.openSave())}>
                Save
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

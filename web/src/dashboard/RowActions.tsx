// A row header's editing actions (edit mode): settings (title, repeat for a variable) and delete
// (the row only, or the row and its panels), each in a small dialog.

import { useState } from 'react';
import { createPortal } from 'react-dom';
import { useDashboardEditor } from './editor';
import type { PanelModel } from './model';
import { removeRow, rowPanelCount } from './rowEdit';
import './edit.css';
import './rowActions.css';

function Dialog({ title, testId, onClose, children }: { title: string; testId: string; onClose: () => void; children: React.ReactNode }) {
  // In a portal: the grid item's transform would trap a fixed backdrop inside the row.
  return createPortal(
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        data-testid={testId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <h2>{title}</h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}

function RowSettings({ row, onClose }: { row: PanelModel; onClose: () => void }) {
  const editor = useDashboardEditor();
  const [title, setTitle] = useState(row.title ?? '');
  const [repeat, setRepeat] = useState(typeof row.repeat === 'string' ? row.repeat : '');
  const variables = (editor.dashboard.templating?.list ?? []).map((v) => v.name);
  const apply = () => {
    editor.updatePanel(row.id, (p) => {
      const { repeat: _old, ...rest } = p; // eslint-disable-line @typescript-eslint/no-unused-vars
      return repeat ? { ...rest, title, repeat } : { ...rest, title };
    });
    onClose();
  };
  return (
    <Dialog title="Row options" testId="row-settings-dialog" onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          Title
          <input type="text" data-testid="row-settings-title" autoFocus value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Repeat for
          <select data-testid="row-settings-repeat" value={repeat} onChange={(e) => setRepeat(e.target.value)}>
            <option value="">None</option>
            {variables.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            {repeat && !variables.includes(repeat) && <option value={repeat}>{repeat} (no such variable)</option>}
          </select>
        </label>
        <div className="modal-buttons">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" data-testid="row-settings-update">
            Update
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RowDelete({ row, onClose }: { row: PanelModel; onClose: () => void }) {
  const editor = useDashboardEditor();
  const count = rowPanelCount(editor.dashboard.panels ?? [], row.id);
  const remove = (withPanels: boolean) => {
    editor.update((d) => ({ ...d, panels: removeRow(d.panels ?? [], row.id, withPanels) }));
    onClose();
  };
  return (
    <Dialog title="Delete row" testId="row-delete-dialog" onClose={onClose}>
      <p>
        Delete the row “{row.title || 'Row'}”
        {count > 0 ? ` and its ${count} ${count === 1 ? 'panel' : 'panels'}, or only the row (its panels stay)?` : '?'}
      </p>
      <div className="modal-buttons">
        <button type="button" className="button" autoFocus onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button danger" data-testid="row-delete-only" onClick={() => remove(false)}>
          {count > 0 ? 'Row only' : 'Delete'}
        </button>
        {count > 0 && (
          <button type="button" className="button danger" data-testid="row-delete-all" onClick={() => remove(true)}>
            Row and panels
          </button>
        )}
      </div>
    </Dialog>
  );
}

export function RowActions({ row }: { row: PanelModel }) {
  const [open, setOpen] = useState<'settings' | 'delete'>();
  const close = () => setOpen(undefined);
  return (
    <span className="row-actions">
      <button type="button" className="row-action" data-testid="row-settings" title="Row options" aria-label={`Options of row ${row.title ?? ''}`} onClick={() => setOpen('settings')}>
        ⚙
      </button>
      <button type="button" className="row-action" data-testid="row-delete" title="Delete row" aria-label={`Delete row ${row.title ?? ''}`} onClick={() => setOpen('delete')}>
        ✕
      </button>
      {open === 'settings' && <RowSettings row={row} onClose={close} />}
      {open === 'delete' && <RowDelete row={row} onClose={close} />}
    </span>
  );
}

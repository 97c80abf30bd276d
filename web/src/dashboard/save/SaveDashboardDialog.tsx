import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useDashboardEditor } from '../editor';
import { FolderSelect } from '../settings/FolderSelect';
import { DiffView } from './DiffView';
import { showNotice } from './notice';
import { saveProblem, type SaveProblem } from './saveErrors';
import '../edit.css';
import './save.css';

export interface SaveDashboardDialogProps {
  onClose: () => void;
}

type Tab = 'details' | 'changes';

/**
 * "Save dashboard": a message for the version, title and folder for a dashboard never saved, the
 * changes against the saved version, and the two conflicts the server can answer (someone else saved
 * first; the title is taken in the folder) with Overwrite / Reload / Cancel. A failed save keeps the
 * working copy untouched, so nothing is lost.
 */
export default function SaveDashboardDialog({ onClose }: SaveDashboardDialogProps) {
  const editor = useDashboardEditor();
  const { dashboard, saved, meta } = editor;
  const isNew = !saved.version && !saved.id;
  const [message, setMessage] = useState('');
  const [tab, setTab] = useState<Tab>('details');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<SaveProblem>();
  // A ref as well as state: two clicks in the same frame must not send two saves.
  const inFlight = useRef(false);

  // The folder the save puts the dashboard in: the editor's (chosen in this dialog for a new
  // dashboard, in the settings for a move, else where it is).
  const targetFolder = editor.folder.uid;

  const save = async (overwrite: boolean) => {
    if (inFlight.current) return;
    if (isNew && !dashboard.title?.trim()) {
      setProblem({ kind: 'error', message: 'The dashboard needs a title.' });
      return;
    }
    inFlight.current = true;
    setBusy(true);
    try {
      await editor.save({ message: message.trim() || undefined, overwrite, folderUid: targetFolder });
      inFlight.current = false;
      onClose();
      showNotice('Dashboard saved');
    } catch (e) {
      inFlight.current = false;
      setBusy(false);
      setProblem(saveProblem(e));
    }
  };

  const reload = async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      await editor.reload();
      inFlight.current = false;
      onClose();
      showNotice('Dashboard reloaded: your changes were dropped', 'save-notice');
    } catch (e) {
      inFlight.current = false;
      setBusy(false);
      setProblem({ kind: 'error', message: `Reload failed: ${saveProblem(e).message}` });
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && !busy) {
      e.stopPropagation();
      onClose();
    }
  };

  if (problem && problem.kind !== 'error') {
    const versionConflict = problem.kind === 'version-mismatch';
    return (
      <div className="modal-backdrop" onKeyDown={onKeyDown}>
        <div className="modal save-conflict" role="dialog" aria-modal="true" aria-labelledby="save-conflict-title" aria-describedby="save-conflict-text" data-testid="save-conflict" data-conflict={problem.kind}>
          <h2 id="save-conflict-title">{versionConflict ? 'Someone else has updated this dashboard' : 'A dashboard with the same name in the folder already exists'}</h2>
          <p id="save-conflict-text">
            {versionConflict
              ? 'A newer version was saved since you loaded this one. Overwrite it with your changes, or reload the latest version and lose your changes.'
              : 'Overwrite replaces the other dashboard with this one. Cancel to choose another title or folder.'}
          </p>
          <div className="modal-buttons">
            <button type="button" className="button" data-testid="save-cancel" disabled={busy} onClick={onClose}>
              Cancel
            </button>
            {versionConflict && (
              <button type="button" className="button" data-testid="save-reload" disabled={busy} onClick={() => void reload()}>
                Reload
              </button>
            )}
            <button type="button" className="button primary" data-testid="save-overwrite" disabled={busy} autoFocus onClick={() => void save(true)}>
              {busy ? 'Saving…' : 'Overwrite'}
            </button>
          </div>
        </div>
      </div>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(false);
  };

  return (
    <div className="modal-backdrop" onKeyDown={onKeyDown}>
      <form className="modal save-dialog" role="dialog" aria-modal="true" aria-labelledby="save-dialog-title" data-testid="save-dialog" onSubmit={submit}>
        <h2 id="save-dialog-title">Save dashboard</h2>
        <div className="save-tabs" role="tablist">
          <button type="button" role="tab" aria-selected={tab === 'details'} className={tab === 'details' ? 'active' : ''} onClick={() => setTab('details')}>
            Details
          </button>
          <button type="button" role="tab" aria-selected={tab === 'changes'} className={tab === 'changes' ? 'active' : ''} data-testid="save-changes-tab" onClick={() => setTab('changes')}>
            Changes{editor.dirty ? '' : ' (none)'}
          </button>
        </div>

        {tab === 'details' ? (
          <div className="save-details">
            {isNew && (
              <>
                <label>
                  Title
                  <input data-testid="save-title" value={dashboard.title ?? ''} onChange={(e) => editor.update((d) => ({ ...d, title: e.target.value }))} autoFocus />
                </label>
                <label>
                  Folder
                  <FolderSelect value={editor.folder.uid} onChange={editor.setFolder} testId="save-folder" />
                </label>
              </>
            )}
            {!isNew && editor.folder.uid !== (meta.folderUid ?? '') && <p className="save-hint">The dashboard moves to the folder chosen in the settings.</p>}
            {!editor.dirty && !isNew && <p className="save-hint">No changes to save.</p>}
            <label>
              Message
              <textarea data-testid="save-message" rows={3} placeholder="Describe the changes (optional)" value={message} onChange={(e) => setMessage(e.target.value)} autoFocus={!isNew} />
            </label>
          </div>
        ) : (
          <div className="save-changes">
            <DiffView before={saved} after={dashboard} testId="save-diff" beforeLabel="the saved version" afterLabel="your changes" />
          </div>
        )}

        {problem && (
          <p className="form-error" role="alert" data-testid="save-error">
            {problem.message}
          </p>
        )}
        <div className="modal-buttons">
          <button type="button" className="button" data-testid="save-cancel" disabled={busy} onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" data-testid="save-dashboard-confirm" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </div>
  );
}

import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { createFolder } from '../../api/folders';
import { Modal } from '../../app/dialog/Modal';

/** Asks for the title, creates the folder and opens its page. */
export function NewFolderDialog({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) {
      setError('The folder needs a title.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const folder = await createFolder(title.trim());
      onClose();
      navigate(folder.url || `/dashboards/f/${encodeURIComponent(folder.uid)}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <Modal title="New folder" onClose={onClose} testId="new-folder-dialog">
      <form className="form" onSubmit={submit}>
        <label>
          Folder name
          <input data-testid="folder-title-input" autoFocus value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="folder-error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" data-testid="folder-create" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

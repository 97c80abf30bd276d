import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { createEmptyDashboard } from '../../api/import';
import { FolderPicker } from '../folders/FolderPicker';
import '../import/import.css';

/** `/dashboard/new[?folderUid=]`: a title and a folder, then an empty dashboard opened in its view. */
export function NewDashboardPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [title, setTitle] = useState('New dashboard');
  const [folderUid, setFolderUid] = useState(params.get('folderUid') ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) {
      setError('The dashboard needs a title.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const saved = await createEmptyDashboard({ title: title.trim(), folderUid, message: 'Created' });
      navigate(saved.url || `/d/${encodeURIComponent(saved.uid)}`);
    } catch (err) {
      // 412: a dashboard of that title is already in the folder (the server's message says so).
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <div className="create-page">
      <h1>New dashboard</h1>
      <form className="form create-form" onSubmit={submit}>
        <label>
          Title
          <input data-testid="new-dashboard-title" autoFocus value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Folder
          <FolderPicker value={folderUid} onChange={setFolderUid} testId="new-dashboard-folder" />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="new-dashboard-error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button primary" data-testid="new-dashboard-create" disabled={busy}>
            Create
          </button>
          <button type="button" className="button" onClick={() => navigate(folderUid ? `/dashboards/f/${encodeURIComponent(folderUid)}` : '/dashboards')}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

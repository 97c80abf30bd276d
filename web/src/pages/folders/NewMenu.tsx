import { useCallback, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useDismiss } from '../../app/dialog/useDismiss';
import { NewFolderDialog } from './NewFolderDialog';
import '../../app/dialog/dialog.css';

/** The browse page's "New" menu: a dashboard (in `folderUid` when browsing a folder), a folder, an import. */
export function NewMenu({ folderUid }: { folderUid?: string }) {
  const [open, setOpen] = useState(false);
  const [folderDialog, setFolderDialog] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(open, close, ref);
  const inFolder = folderUid ? `?folderUid=${encodeURIComponent(folderUid)}` : '';
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="button primary" data-testid="browse-new" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        New ▾
      </button>
      {open && (
        <div className="menu-list" role="menu">
          <Link role="menuitem" to={`/dashboard/new${inFolder}`} data-testid="new-dashboard-link" onClick={close}>
            New dashboard
          </Link>
          {/* Folders are one level deep: no new folder inside a folder. */}
          {!folderUid && (
            <button
              type="button"
              role="menuitem"
              data-testid="new-folder-link"
              onClick={() => {
                close();
                setFolderDialog(true);
              }}
            >
              New folder
            </button>
          )}
          <Link role="menuitem" to={`/dashboard/import${inFolder}`} data-testid="import-link" onClick={close}>
            Import
          </Link>
        </div>
      )}
      {folderDialog && <NewFolderDialog onClose={() => setFolderDialog(false)} />}
    </div>
  );
}

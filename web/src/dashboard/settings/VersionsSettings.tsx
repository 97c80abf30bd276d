import { useEffect, useState } from 'react';
import { getVersion, listVersions, restoreVersion, type DashboardVersion } from '../../api/versions';
import { formatDateTime } from '../../lib/time';
import { useDashboardEditor } from '../editor';
import type { DashboardModel } from '../model';
import { DiffView } from '../save/DiffView';
import { showNotice } from '../save/notice';

type Compare = { older: DashboardVersion; newer: DashboardVersion; before?: DashboardModel; after?: DashboardModel; error?: string };

/** Versions: the saved history, a diff of any two versions, and restoring an older one. */
export function VersionsSettings() {
  const editor = useDashboardEditor();
  const uid = editor.saved.uid;
  const savedVersion = editor.saved.version;
  const [versions, setVersions] = useState<DashboardVersion[]>();
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<number[]>([]);
  const [compare, setCompare] = useState<Compare>();
  const [restoring, setRestoring] = useState<DashboardVersion>();
  const [restoreBusy, setRestoreBusy] = useState(false);
  const [restoreError, setRestoreError] = useState<string>();

  // The list reloads whenever the saved version changes (a save or restore from here or the dialog).
  useEffect(() => {
    const abort = new AbortController();
    listVersions(uid, abort.signal)
      .then((list) => {
        setVersions(list);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => abort.abort();
  }, [uid, savedVersion]);

  const toggle = (version: number, on: boolean) =>
    // At most two: checking a third replaces the older choice.
    setSelected((s) => (on ? [...s.filter((v) => v !== version), version].slice(-2) : s.filter((v) => v !== version)));

  const startCompare = () => {
    if (!versions || selected.length !== 2) return;
    const [a, b] = selected.map((n) => versions.find((v) => v.version === n)!);
    const [older, newer] = a.version < b.version ? [a, b] : [b, a];
    setCompare({ older, newer });
    Promise.all([getVersion(uid, older.version), getVersion(uid, newer.version)])
      .then(([o, n]) => setCompare((c) => (c && c.older === older && c.newer === newer ? { ...c, before: o.data, after: n.data } : c)))
      .catch((e: unknown) => setCompare((c) => (c && c.older === older ? { ...c, error: e instanceof Error ? e.message : String(e) } : c)));
  };

  const restore = async (v: DashboardVersion) => {
    setRestoreBusy(true);
    setRestoreError(undefined);
    try {
      await restoreVersion(uid, v.version);
      await editor.reload();
      setRestoring(undefined);
      setSelected([]);
      showNotice(`Dashboard restored to version ${v.version}`);
    } catch (e) {
      setRestoreError(e instanceof Error ? e.message : String(e));
    } finally {
      setRestoreBusy(false);
    }
  };

  if (compare) {
    return (
      <div className="settings-form wide">
        <div className="settings-heading">
          <button type="button" className="button ghost" data-testid="version-diff-back" onClick={() => setCompare(undefined)}>
            ← Versions
          </button>
          <h2>
            Comparing version {compare.older.version} with version {compare.newer.version}
          </h2>
        </div>
        {compare.error ? (
          <p className="form-error" role="alert">
            {compare.error}
          </p>
        ) : compare.before && compare.after ? (
          <DiffView before={compare.before} after={compare.after} testId="version-diff" beforeLabel={`version ${compare.older.version}`} afterLabel={`version ${compare.newer.version}`} />
        ) : (
          <p className="settings-hint" aria-busy="true">
            Loading versions…
          </p>
        )}
      </div>
    );
  }

  const latest = versions?.reduce((max, v) => Math.max(max, v.version), 0);
  return (
    <div className="settings-form wide">
      <h2>Versions</h2>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!versions && !error && <p className="settings-hint">Loading…</p>}
      {versions && versions.length === 0 && <p className="settings-empty">This dashboard has no saved versions yet.</p>}
      {versions && versions.length > 0 && (
        <>
          <table className="versions-table">
            <thead>
              <tr>
                <th>
                  <span className="visually-hidden">Compare</span>
                </th>
                <th>Version</th>
                <th>Date</th>
                <th>Updated by</th>
                <th>Notes</th>
                <th>
                  <span className="visually-hidden">Restore</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-testid="version-row" data-version={v.version}>
                  <td>
                    <input type="checkbox" aria-label={`Compare version ${v.version}`} data-testid="version-select" checked={selected.includes(v.version)} onChange={(e) => toggle(v.version, e.target.checked)} />
                  </td>
                  <td>{v.version}</td>
                  <td>{formatCreated(v.created)}</td>
                  <td>{v.createdBy}</td>
                  <td>{v.restoredFrom ? `Restored from version ${v.restoredFrom}${v.message ? `: ${v.message}` : ''}` : v.message}</td>
                  <td>
                    {v.version === latest ? (
                      <span className="settings-hint">Latest</span>
                    ) : (
                      editor.meta.canSave !== false && (
                        <button type="button" className="button" data-testid="version-restore" onClick={() => (setRestoreError(undefined), setRestoring(v))}>
                          Restore
                        </button>
                      )
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div>
            <button type="button" className="button primary" data-testid="version-compare" disabled={selected.length !== 2} onClick={startCompare}>
              Compare versions
            </button>
            {selected.length !== 2 && <span className="settings-hint"> Select two versions to compare.</span>}
          </div>
        </>
      )}

      {restoring && (
        <div className="modal-backdrop" onKeyDown={(e) => e.key === 'Escape' && !restoreBusy && setRestoring(undefined)}>
          <div className="modal" role="dialog" aria-modal="true" aria-labelledby="restore-title" data-testid="version-restore-dialog">
            <h2 id="restore-title">Restore version {restoring.version}</h2>
            <p>
              The dashboard is saved again as it was in version {restoring.version}, as a new version.
              {editor.dirty && ' Your unsaved changes will be lost.'}
            </p>
            {restoreError && (
              <p className="form-error" role="alert">
                {restoreError}
              </p>
            )}
            <div className="modal-buttons">
              <button type="button" className="button" data-testid="version-restore-cancel" disabled={restoreBusy} onClick={() => setRestoring(undefined)}>
                Cancel
              </button>
              <button type="button" className="button primary" data-testid="version-restore-confirm" disabled={restoreBusy} autoFocus onClick={() => void restore(restoring)}>
                {restoreBusy ? 'Restoring…' : `Restore to version ${restoring.version}`}
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function formatCreated(created: string): string {
  const time = Date.parse(created);
  return Number.isNaN(time) ? created : formatDateTime(time);
}

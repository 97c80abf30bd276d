import { listFolders } from '../../api/folders';
import { useLoad } from '../../datasources/useLoad';

/** A select of the org's folders; "" is the top level ("Dashboards", Grafana's General). */
export function FolderPicker({ value, onChange, testId, id }: { value: string; onChange: (uid: string) => void; testId: string; id?: string }) {
  const [folders] = useLoad('folders', listFolders);
  const list = folders.kind === 'done' ? [...folders.value].sort((a, b) => a.title.localeCompare(b.title)) : [];
  // A folder asked for by the URL stays selectable while the list loads.
  const known = value === '' || list.some((f) => f.uid === value);
  return (
    <>
      <select id={id} data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)} aria-busy={folders.kind === 'loading'}>
        <option value="">Dashboards</option>
        {!known && <option value={value}>{folders.kind === 'loading' ? 'Loading…' : `Unknown folder (${value})`}</option>}
        {list.map((f) => (
          <option key={f.uid} value={f.uid}>
            {f.title}
          </option>
        ))}
      </select>
      {folders.kind === 'error' && <span className="form-error">Folders could not be listed: {folders.message}</span>}
    </>
  );
}

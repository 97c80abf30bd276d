import { useEffect, useState } from 'react';
import { listFolderOptions, type FolderOption } from '../../api/versions';

interface Props {
  /** The folder uid ('' is General). */
  value: string;
  onChange: (uid: string, title: string) => void;
  testId?: string;
  id?: string;
}

/** A select of the org's folders, General first. The current folder is listed even before the list loads. */
export function FolderSelect({ value, onChange, testId, id }: Props) {
  const [folders, setFolders] = useState<FolderOption[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    listFolderOptions(abort.signal)
      .then((list) => setFolders([...list].sort((a, b) => a.title.localeCompare(b.title))))
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => abort.abort();
  }, []);

  const options = folders ?? [];
  const known = value === '' || options.some((f) => f.uid === value);
  return (
    <>
      <select id={id} data-testid={testId} value={value} onChange={(e) => onChange(e.target.value, e.target.selectedOptions[0]?.text ?? '')}>
        <option value="">General</option>
        {!known && <option value={value}>{folders ? value : 'Loading…'}</option>}
        {options.map((f) => (
          <option key={f.uid} value={f.uid}>
            {f.title}
          </option>
        ))}
      </select>
      {error && <span className="field-error">Folders could not be listed: {error}</span>}
    </>
  );
}

import { useEffect, useState } from 'react';

export type Loaded<T> = { kind: 'loading' } | { kind: 'done'; value: T } | { kind: 'error'; message: string };

/**
 * Runs `load` when `key` changes, aborting the previous run, so a page shows its data or the server's
 * message (a Viewer's 403 "Permission denied") instead of throwing.
 */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>): [Loaded<T>, (value: T) => void] {
  const [state, setState] = useState<Loaded<T> & { key?: string }>({ kind: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal)
      .then((value) => setState({ kind: 'done', value, key }))
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setState({ kind: 'error', message: e instanceof Error ? e.message : String(e), key });
      });
    return () => abort.abort();
    // `load` is a fresh closure each render; `key` says when the data to load changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  // A state left from another key is stale: show loading until this key's answer arrives.
  const shown: Loaded<T> = state.key === key ? state : { kind: 'loading' };
  return [shown, (value: T) => setState({ kind: 'done', value, key })];
}

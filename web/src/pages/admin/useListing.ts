import { useEffect, useState } from 'react';

export interface Listing<T> {
  /** The last answer, kept while the next loads so a list does not blink on every change. */
  value?: T;
  /** The server's message when the last load failed (a Viewer's 403 "Permission denied"). */
  error?: string;
  loading: boolean;
}

/** Loads when `key` changes (query, page, a counter bumped after a write), aborting the previous load. */
export function useListing<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Listing<T> {
  const [state, setState] = useState<{ key?: string; value?: T; error?: string }>({});
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal)
      .then((value) => setState({ key, value }))
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ key, value: s.value, error: e instanceof Error ? e.message : String(e) }));
      });
    return () => abort.abort();
    // `load` is a fresh closure each render; `key` says when the data to load changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return { value: state.value, error: state.error, loading: state.key !== key };
}

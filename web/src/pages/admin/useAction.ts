import { useState } from 'react';

/**
 * Runs a write (create, delete, role change) and keeps its outcome for the page: the server's
 * message on failure (a 403 for a smaller role, a 412 for a taken login…), then `onDone` on success.
 */
export function useAction(onDone: () => void): { busy: boolean; error?: string; run: <T>(action: () => Promise<T>) => Promise<T | undefined>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async <T,>(action: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await action();
      onDone();
      return result;
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

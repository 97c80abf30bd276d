// Pieces the three notification pages share: the editor check, the clock, and the
// load/act hooks (the admin pages' ones: a list that reloads on a key, a write that keeps its error).
import { useEffect, useState } from 'react';
import { useOrgRole } from '../../app/orgRole';
export { useAction } from '../admin/useAction';
export { useListing } from '../admin/useListing';

/**
 * Whether the signed-in user may write (Editor or Admin in the org). Unknown while the role loads,
 * which counts as no: write controls appear once the role is known. The server checks anyway.
 */
export function useCanEdit(): boolean {
  const role = useOrgRole();
  return role === 'Editor' || role === 'Admin';
}

export function ErrorLine({ error, testId }: { error?: string; testId?: string }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}

/** The time now, refreshed every `everyMs` (for "ends in 2h" and the end a duration gives). */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

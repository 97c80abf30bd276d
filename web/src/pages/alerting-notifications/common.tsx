// Pieces the three notification pages share: the tabs between them, the editor check, and the
// load/act hooks (the admin pages' ones: a list that reloads on a key, a write that keeps its error).
import { useEffect, useState } from 'react';
import { NavLink } from 'react-router';
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

export function NotificationsTabs() {
  const tab = ({ isActive }: { isActive: boolean }) => `an-tab${isActive ? ' active' : ''}`;
  return (
    <nav className="an-tabs" aria-label="Alerting notifications">
      <NavLink to="/alerting/notifications" className={tab} end>
        Contact points
      </NavLink>
      <NavLink to="/alerting/routes" className={tab} end>
        Notification policies
      </NavLink>
      <NavLink to="/alerting/silences" className={tab} end>
        Silences
      </NavLink>
    </nav>
  );
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

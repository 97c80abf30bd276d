// What the alerting pages share: the state badge and who may change rules.
import { useOrgRole } from '../../app/orgRole';
import { useSession } from '../../app/session';

/** A state (Normal, Pending, Alerting, NoData, Error) as a coloured pill. */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  const known = ['normal', 'pending', 'alerting', 'nodata', 'error'];
  const cls = known.includes(state.toLowerCase()) ? state.toLowerCase() : 'nodata';
  return (
    <span className={`state-badge ${cls}`} data-testid={testId} data-state={state}>
      {state === 'NoData' ? 'No data' : state}
    </span>
  );
}

/**
 * Whether the signed-in user may write rules (Editor or Admin in the org, or a server admin).
 * Undefined while the role loads. Only decides what shows: the server checks every write.
 */
export function useCanEditRules(): boolean | undefined {
  const role = useOrgRole();
  const user = useSession();
  if (user.isGrafanaAdmin) return true;
  if (role === undefined) return undefined;
  return role === 'Editor' || role === 'Admin';
}

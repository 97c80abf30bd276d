// The signed-in user's role in the current org. GET /api/user does not carry it, so it comes from
// GET /api/user/orgs. Only used to decide which links to show: the server still checks every request.

import { useEffect, useState } from 'react';
import { getUserOrgs } from '../api/auth';
import { useSession } from './session';

export function useOrgRole(): string | undefined {
  const user = useSession();
  const [role, setRole] = useState<string>();
  useEffect(() => {
    const abort = new AbortController();
    getUserOrgs(abort.signal)
      .then((orgs) => setRole((orgs.find((o) => o.orgId === user.orgId) ?? orgs[0])?.role))
      // Without the role the admin links stay hidden; the pages themselves still work by URL.
      .catch(() => undefined);
    return () => abort.abort();
  }, [user.orgId]);
  return role;
}

// Who is signed in. The session cookie is HttpOnly, so the UI asks GET /api/user: 401 means the
// login page, with the page the user wanted remembered in `redirect`.

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { getCurrentUser, type SignedInUser } from '../api/auth';
import { ApiError } from '../api/client';

const SessionContext = createContext<SignedInUser | null>(null);

export function useSession(): SignedInUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error('useSession outside RequireSession');
  return user;
}

type State = { kind: 'loading' } | { kind: 'signed-in'; user: SignedInUser } | { kind: 'signed-out' } | { kind: 'error'; message: string };

export function RequireSession({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const location = useLocation();

  useEffect(() => {
    const abort = new AbortController();
    getCurrentUser(abort.signal)
      .then((user) => setState({ kind: 'signed-in', user }))
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status === 401) setState({ kind: 'signed-out' });
        else setState({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
      });
    return () => abort.abort();
  }, []);

  switch (state.kind) {
    case 'loading':
      return <div className="page-loading" aria-busy="true" />;
    case 'signed-out': {
      const wanted = location.pathname + location.search;
      return <Navigate to={`/login?redirect=${encodeURIComponent(wanted)}`} replace />;
    }
    case 'error':
      return (
        <div className="page-error" role="alert">
          Pharos could not be reached: {state.message}
        </div>
      );
    case 'signed-in':
      return <SessionContext.Provider value={state.user}>{children}</SessionContext.Provider>;
  }
}

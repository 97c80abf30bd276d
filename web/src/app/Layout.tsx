import { Outlet } from 'react-router';
import { TopBar } from './TopBar';
import { RequireSession } from './session';

/** Signed-in pages: the top bar above the page. */
export function SignedInLayout() {
  return (
    <RequireSession>
      <TopBar />
      <main className="page">
        <Outlet />
      </main>
    </RequireSession>
  );
}

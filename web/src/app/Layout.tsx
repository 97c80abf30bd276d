import { Outlet, useSearchParams } from 'react-router';
import { TopBar } from './TopBar';
import { RequireSession } from './session';

/** Signed-in pages: the top bar above the page, except in kiosk mode (`?kiosk`), as Grafana does. */
export function SignedInLayout() {
  const [params] = useSearchParams();
  const kiosk = params.has('kiosk');
  return (
    <RequireSession>
      {!kiosk && <TopBar />}
      <main className="page">
        <Outlet />
      </main>
    </RequireSession>
  );
}

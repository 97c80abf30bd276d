import { NavLink, Outlet, useLocation, useSearchParams } from 'react-router';
import { TopBar } from './TopBar';
import { RequireSession } from './session';

/** Signed-in pages: the top bar above the page, except in kiosk mode (`?kiosk`), as Grafana does. */
export function SignedInLayout() {
  const [params] = useSearchParams();
  const { pathname } = useLocation();
  const kiosk = params.has('kiosk');
  return (
    <RequireSession>
      {!kiosk && <TopBar />}
      {!kiosk && pathname.startsWith('/alerting') && <AlertingNav />}
      <main className="page">
        <Outlet />
      </main>
    </RequireSession>
  );
}

/** The alerting section's pages, as tabs under the top bar (Grafana's Alerting sub-menu). */
const ALERTING_LINKS: { to: string; label: string; testId: string; also?: RegExp }[] = [
  // The editor's URLs (/alerting/new, /alerting/:uid/edit) belong to the rules tab.
  { to: '/alerting/list', label: 'Alert rules', testId: 'alerting-nav-rules', also: /^\/alerting\/(new|[^/]+\/edit)$/ },
  { to: '/alerting/notifications', label: 'Contact points', testId: 'alerting-nav-contact-points' },
  { to: '/alerting/routes', label: 'Notification policies', testId: 'alerting-nav-policies' },
  { to: '/alerting/silences', label: 'Silences', testId: 'alerting-nav-silences' },
  { to: '/alerting/history', label: 'State history', testId: 'alerting-nav-history' },
];

// Styled inline: the layout is in the main bundle, and the shared stylesheet belongs to the app shell.
const navStyle = { display: 'flex', alignItems: 'center', gap: 4, padding: '0 16px', background: 'var(--bg-panel)', borderBottom: '1px solid var(--border)' } as const;
const tabStyle = (active: boolean) => ({ padding: '10px 12px', color: active ? 'var(--text)' : 'var(--text-weak)', borderBottom: `2px solid ${active ? 'var(--primary)' : 'transparent'}`, textDecoration: 'none' }) as const;

function AlertingNav() {
  const { pathname } = useLocation();
  return (
    <nav aria-label="Alerting" data-testid="alerting-nav" style={navStyle}>
      <span style={{ fontWeight: 500, marginRight: 12 }}>Alerting</span>
      {ALERTING_LINKS.map((link) => (
        <NavLink key={link.to} to={link.to} data-testid={link.testId} style={({ isActive }) => tabStyle(isActive || !!link.also?.test(pathname))}>
          {link.label}
        </NavLink>
      ))}
    </nav>
  );
}

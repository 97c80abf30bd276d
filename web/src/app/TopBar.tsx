import { useCallback, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useDismiss } from './dialog/useDismiss';
import { useOrgRole } from './orgRole';
import { useSession } from './session';
import { useTheme } from './theme';
import './dialog/dialog.css';

export function TopBar() {
  const user = useSession();
  const [theme, toggleTheme] = useTheme();
  // Only decides which links show: the server checks every request (a Viewer meets its 403).
  const isOrgAdmin = useOrgRole() === 'Admin';
  const isServerAdmin = !!user.isGrafanaAdmin;
  return (
    <header className="top-bar">
      <Link to="/" className="brand">
        Pharos
      </Link>
      <nav className="top-nav" aria-label="Main">
        <Link to="/dashboards">Dashboards</Link>
        <Link to="/alerting/list">Alerting</Link>
        <Link to="/dashboards" aria-label="Search dashboards" className="search-link">
          Search
        </Link>
      </nav>
      <div className="top-bar-end">
        {(isOrgAdmin || isServerAdmin) && <AdminMenu isOrgAdmin={isOrgAdmin} isServerAdmin={isServerAdmin} />}
        <button type="button" className="button ghost" data-testid="theme-toggle" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <UserMenu login={user.login} name={user.name} />
      </div>
    </header>
  );
}

/** A button with a dropdown that closes on Escape, on a click outside and on choosing an item. */
function Menu({ label, testId, children }: { label: string; testId: string; children: (close: () => void) => ReactNode }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(open, close, ref);
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="button ghost" data-testid={testId} aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        {label}
      </button>
      {open && (
        <div className="menu-list" role="menu">
          {children(close)}
        </div>
      )}
    </div>
  );
}

/**
 * Administration: users are the server admin's (Grafana Admin), service accounts and datasources the
 * org admin's; the cluster view is for either.
 */
function AdminMenu({ isOrgAdmin, isServerAdmin }: { isOrgAdmin: boolean; isServerAdmin: boolean }) {
  return (
    <Menu label="Administration" testId="admin-menu">
      {(close) => (
        <>
          {isServerAdmin && (
            <Link role="menuitem" to="/admin/users" data-testid="admin-users-link" onClick={close}>
              Users
            </Link>
          )}
          {isOrgAdmin && (
            <Link role="menuitem" to="/org/serviceaccounts" data-testid="admin-serviceaccounts-link" onClick={close}>
              Service accounts
            </Link>
          )}
          {isOrgAdmin && (
            <Link role="menuitem" to="/connections/datasources" data-testid="admin-datasources-link" onClick={close}>
              Data sources
            </Link>
          )}
          <Link role="menuitem" to="/admin/cluster" data-testid="admin-cluster-link" onClick={close}>
            Cluster
          </Link>
        </>
      )}
    </Menu>
  );
}

function UserMenu({ login, name }: { login: string; name?: string }) {
  return (
    <Menu label={name || login} testId="user-menu">
      {(close) => (
        <>
          <div className="menu-header">Signed in as {login}</div>
          <Link role="menuitem" to="/profile" data-testid="profile-link" onClick={close}>
            Profile
          </Link>
          {/* A full page load: the server revokes the session and redirects to /login. */}
          <a role="menuitem" href="/logout" data-testid="logout">
            Sign out
          </a>
        </>
      )}
    </Menu>
  );
}

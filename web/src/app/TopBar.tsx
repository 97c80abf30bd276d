import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useOrgRole } from './orgRole';
import { useSession } from './session';
import { useTheme } from './theme';

export function TopBar() {
  const user = useSession();
  const [theme, toggleTheme] = useTheme();
  // Datasources are managed by org admins only; others would just meet the server's 403.
  const isAdmin = useOrgRole() === 'Admin';
  return (
    <header className="top-bar">
      <Link to="/" className="brand">
        Pharos
      </Link>
      <nav className="top-nav" aria-label="Main">
        <Link to="/dashboards">Dashboards</Link>
        <Link to="/dashboards" aria-label="Search dashboards" className="search-link">
          Search
        </Link>
        {isAdmin && <Link to="/connections/datasources">Data sources</Link>}
      </nav>
      <div className="top-bar-end">
        <button type="button" className="button ghost" data-testid="theme-toggle" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <UserMenu login={user.login} name={user.name} />
      </div>
    </header>
  );
}

function UserMenu({ login, name }: { login: string; name?: string }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="button ghost" data-testid="user-menu" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        {name || login}
      </button>
      {open && (
        <div className="menu-list" role="menu">
          <div className="menu-header">Signed in as {login}</div>
          <Link role="menuitem" to="/profile" data-testid="profile-link" onClick={() => setOpen(false)}>
            Profile
          </Link>
          {/* A full page load: the server revokes the session and redirects to /login. */}
          <a role="menuitem" href="/logout" data-testid="logout">
            Sign out
          </a>
        </div>
      )}
    </div>
  );
}

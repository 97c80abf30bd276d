import { useState, type FormEvent } from 'react';
import { changePassword, login } from '../api/auth';
import { useSession } from '../app/session';
import { useTheme } from '../app/theme';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function ProfilePage() {
  const user = useSession();
  const [theme, toggleTheme] = useTheme();
  return (
    <div className="profile">
      <h1>Profile</h1>
      <section className="profile-section">
        <h2>{user.name || user.login}</h2>
        <p className="muted">
          {user.login}
          {user.email ? ` · ${user.email}` : ''}
        </p>
      </section>
      <section className="profile-section">
        <h2>Preferences</h2>
        <label className="checkbox">
          <input type="checkbox" data-testid="profile-dark-theme" checked={theme === 'dark'} onChange={toggleTheme} />
          Dark theme (kept in this browser)
        </label>
      </section>
      <section className="profile-section">
        <h2>Change password</h2>
        <ChangePasswordForm login={user.login} />
      </section>
    </div>
  );
}

function ChangePasswordForm({ login: userLogin }: { login: string }) {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (newPassword !== confirm) {
      setMessage({ ok: false, text: 'The new passwords do not match.' });
      return;
    }
    setBusy(true);
    setMessage(undefined);
    try {
      await changePassword(oldPassword, newPassword, confirm);
      // The server revokes every session of the user on a password change; sign this one in again.
      await login(userLogin, newPassword);
      setOld('');
      setNew('');
      setConfirm('');
      setMessage({ ok: true, text: 'Password changed.' });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form narrow" onSubmit={submit} aria-label="Change password">
      <label>
        Old password
        <input type="password" data-testid="profile-old-password" autoComplete="current-password" required value={oldPassword} onChange={(e) => setOld(e.target.value)} />
      </label>
      <label>
        New password
        <input type="password" data-testid="profile-new-password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNew(e.target.value)} />
      </label>
      <label>
        Confirm new password
        <input type="password" data-testid="profile-confirm-password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      </label>
      {message && (
        <p className={message.ok ? 'form-ok' : 'form-error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" data-testid="profile-change-password" disabled={busy}>
          Change password
        </button>
      </div>
    </form>
  );
}

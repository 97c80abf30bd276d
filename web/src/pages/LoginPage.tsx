import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { changePassword, login } from '../api/auth';

/** Only same-site paths are followed after login, so a crafted link cannot send the user elsewhere. */
function safeRedirect(target: string | null): string {
  if (!target || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/login')) return '/';
  return target;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const redirect = safeRedirect(params.get('redirect'));
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // After signing in with the default password, Grafana offers to change it (skippable).
  const [offerChange, setOfferChange] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(user, password);
      if (password === 'admin') setOfferChange(true);
      else navigate(redirect, { replace: true });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <div className="login-box">
        <h1 className="login-title">Pharos</h1>
        {offerChange ? (
          <ChangeDefaultPassword user={user} oldPassword={password} onDone={() => navigate(redirect, { replace: true })} />
        ) : (
          <form onSubmit={submit} className="form" aria-label="Sign in">
            <label>
              Email or username
              <input data-testid="login-user" name="user" autoComplete="username" autoFocus required value={user} onChange={(e) => setUser(e.target.value)} />
            </label>
            <label>
              Password
              <input data-testid="login-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
            {error && (
              <p className="form-error" role="alert" data-testid="login-error">
                {error}
              </p>
            )}
            <button type="submit" className="button primary" data-testid="login-submit" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
      </div>
    </div>
  );
}

function ChangeDefaultPassword({ user, oldPassword, onDone }: { user: string; oldPassword: string; onDone: () => void }) {
  const [newPassword, setNewPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (newPassword !== confirm) {
      setError('The passwords do not match.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await changePassword(oldPassword, newPassword, confirm);
      // Changing the password revokes every session, this one too: sign in again with the new one.
      await login(user, newPassword);
      onDone();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="form" aria-label="Change password">
      <p>You are using the default password. Choose a new one to secure your account.</p>
      <label>
        New password
        <input data-testid="change-password-new" type="password" autoComplete="new-password" required autoFocus value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
      </label>
      <label>
        Confirm new password
        <input data-testid="change-password-confirm" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" data-testid="change-password-submit" disabled={busy}>
          Submit
        </button>
        <button type="button" className="button" data-testid="change-password-skip" onClick={onDone}>
          Skip
        </button>
      </div>
    </form>
  );
}

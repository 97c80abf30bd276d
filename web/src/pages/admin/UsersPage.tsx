import { useCallback, useState, type ChangeEvent, type FormEvent } from 'react';
import { createUser, deleteUser, listOrgMembers, ORG_ROLES, searchUsers, setOrgRole, setUserPassword, type ListedUser, type OrgRole } from '../../api/admin';
import { useSession } from '../../app/session';
import { Modal } from '../../app/dialog/Modal';
import { Pager } from './Pager';
import { pageCount } from './paging';
import { useAction } from './useAction';
import { useDebouncedValue } from '../../app/useDebouncedValue';
import { useListing } from './useListing';
import './admin.css';

const PER_PAGE = 30;

/**
 * `/admin/users`: the server's users (server admins only; others see the server's 403), their role in
 * the current org, and creating, deleting and resetting passwords.
 */
export function UsersPage() {
  const me = useSession();
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [version, setVersion] = useState(0);
  const [creating, setCreating] = useState(false);
  const settledQuery = useDebouncedValue(query, 250);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  const users = useListing(`${settledQuery}\u0000${page}\u0000${version}`, (signal) => searchUsers({ query: settledQuery, page, perpage: PER_PAGE }, signal));
  // The user search carries no org role; the org's member list does (for org admins).
  const members = useListing(`members\u0000${version}`, listOrgMembers);
  const roles = new Map((members.value ?? []).map((m) => [m.userId, m.role]));
  const total = users.value?.totalCount ?? 0;
  // A delete can empty the last page: step back to the last page there is.
  if (users.value && !users.loading && page > pageCount(total, PER_PAGE)) setPage(pageCount(total, PER_PAGE));

  return (
    <div className="admin-page">
      <div className="admin-header">
        <h1>Users</h1>
        {/* Creating users needs a server admin; others see the list's 403 message instead. */}
        {me.isGrafanaAdmin && (
          <button type="button" className="button primary" data-testid="user-create-open" onClick={() => setCreating(true)}>
            New user
          </button>
        )}
      </div>
      <input
        type="search"
        placeholder="Search by login, e-mail or name"
        aria-label="Search users"
        data-testid="user-search"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setPage(1);
        }}
      />
      {users.error && (
        <p className="form-error" role="alert" data-testid="admin-error">
          {users.error}
        </p>
      )}
      {!users.value && users.loading && <div className="page-loading" aria-busy="true" />}
      {users.value && (
        <>
          <table className="admin-table" aria-busy={users.loading}>
            <thead>
              <tr>
                <th>Login</th>
                <th>E-mail</th>
                <th>Name</th>
                <th>Org role</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {users.value.users.map((user) => (
                <UserRow key={user.id} user={user} role={roles.get(user.id)} rolesKnown={!members.error} isMe={user.id === me.id} onChanged={reload} />
              ))}
            </tbody>
          </table>
          {users.value.users.length === 0 && <p className="empty-state">No users match.</p>}
          <Pager page={page} perPage={PER_PAGE} total={total} onPage={setPage} testId="users-pager" />
        </>
      )}
      {creating && (
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
    </div>
  );
}

function UserRow({ user, role, rolesKnown, isMe, onChanged }: { user: ListedUser; role?: string; rolesKnown: boolean; isMe: boolean; onChanged: () => void }) {
  const action = useAction(onChanged);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [resetting, setResetting] = useState(false);
  return (
    <tr data-testid="user-row" data-login={user.login} data-user-id={user.id}>
      <td>
        {user.login}
        {user.isAdmin && <span className="badge">server admin</span>}
        {user.isDisabled && <span className="badge muted">disabled</span>}
      </td>
      <td>{user.email}</td>
      <td>{user.name}</td>
      <td>
        {role ? (
          <select aria-label={`Org role of ${user.login}`} data-testid="user-role" value={role} disabled={action.busy} onChange={(e) => void action.run(() => setOrgRole(user.id, e.target.value as OrgRole))}>
            {ORG_ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        ) : (
          <span className="muted">{rolesKnown ? 'not in this org' : '—'}</span>
        )}
        {action.error && (
          <div className="form-error" role="alert" data-testid="user-row-error">
            {action.error}
          </div>
        )}
      </td>
      <td>
        <div className="actions">
          <button type="button" className="button" data-testid="user-password" onClick={() => setResetting(true)}>
            Reset password
          </button>
          {confirmDelete ? (
            <>
              <button type="button" className="button danger" data-testid="user-delete-confirm" disabled={action.busy} onClick={() => void action.run(() => deleteUser(user.id))}>
                Delete {user.login}
              </button>
              <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </>
          ) : (
            <button type="button" className="button danger" data-testid="user-delete" disabled={isMe} title={isMe ? 'You cannot delete yourself' : undefined} onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          )}
          {resetting && <ResetPasswordDialog user={user} onClose={() => setResetting(false)} />}
        </div>
      </td>
    </tr>
  );
}

function ResetPasswordDialog({ user, onClose }: { user: ListedUser; onClose: () => void }) {
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction(() => setDone(true));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(() => setUserPassword(user.id, password));
  };
  return (
    <Modal title={`Reset the password of ${user.login}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label>
          New password
          <input type="password" autoComplete="new-password" data-testid="user-password-input" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <p className="muted">The user's sessions are signed out.</p>
        {action.error && (
          <p className="form-error" role="alert">
            {action.error}
          </p>
        )}
        {done && (
          <p className="form-ok" role="status" data-testid="user-password-done">
            Password changed.
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {done ? 'Close' : 'Cancel'}
          </button>
          {!done && (
            <button type="submit" className="button primary" data-testid="user-password-save" disabled={action.busy}>
              Set password
            </button>
          )}
        </div>
      </form>
    </Modal>
  );
}

function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [user, setUser] = useState({ name: '', email: '', login: '', password: '' });
  const action = useAction(onCreated);
  const field = (key: keyof typeof user) => ({
    'data-testid': `user-create-${key}`,
    value: user[key],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setUser({ ...user, [key]: e.target.value }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(() => createUser(user));
  };
  return (
    <Modal title="New user" onClose={onClose} testId="user-create-dialog">
      <form className="form" onSubmit={submit}>
        <label>
          Name
          <input autoFocus {...field('name')} />
        </label>
        <label>
          E-mail
          <input type="email" {...field('email')} />
        </label>
        <label>
          Login <span className="muted">(the e-mail when empty)</span>
          <input {...field('login')} />
        </label>
        <label>
          Password
          <input type="password" autoComplete="new-password" {...field('password')} />
        </label>
        <p className="muted">The user joins this organization as a Viewer.</p>
        {action.error && (
          <p className="form-error" role="alert" data-testid="user-create-error">
            {action.error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" data-testid="user-create-submit" disabled={action.busy}>
            Create user
          </button>
        </div>
      </form>
    </Modal>
  );
}

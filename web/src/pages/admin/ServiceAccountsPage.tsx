import { useCallback, useState, type FormEvent } from 'react';
import {
  createServiceAccount,
  createToken,
  deleteServiceAccount,
  deleteToken,
  listTokens,
  ORG_ROLES,
  searchServiceAccounts,
  updateServiceAccountRole,
  type OrgRole,
  type ServiceAccount,
} from '../../api/admin';
import { Modal } from '../../app/dialog/Modal';
import { Pager } from './Pager';
import { pageCount, TOKEN_LIFETIMES } from './paging';
import { relativeTime } from './cluster';
import { useAction } from './useAction';
import { useDebouncedValue } from '../../app/useDebouncedValue';
import { useListing } from './useListing';
import './admin.css';

const PER_PAGE = 30;

/** `/org/serviceaccounts`: the org's service accounts and their tokens (org admins; others see the 403). */
export function ServiceAccountsPage() {
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [version, setVersion] = useState(0);
  const settledQuery = useDebouncedValue(query, 250);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const accounts = useListing(`${settledQuery}\u0000${page}\u0000${version}`, (signal) => searchServiceAccounts({ query: settledQuery, page, perpage: PER_PAGE }, signal));
  const total = accounts.value?.totalCount ?? 0;
  if (accounts.value && !accounts.loading && page > pageCount(total, PER_PAGE)) setPage(pageCount(total, PER_PAGE));

  return (
    <div className="admin-page">
      <h1>Service accounts</h1>
      <p className="muted">Service accounts run automated work (provisioning, scripts) with tokens instead of a password.</p>
      <CreateAccountForm onCreated={reload} />
      <input
        type="search"
        placeholder="Search service accounts"
        aria-label="Search service accounts"
        data-testid="sa-search"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setPage(1);
        }}
      />
      {accounts.error && (
        <p className="form-error" role="alert" data-testid="admin-error">
          {accounts.error}
        </p>
      )}
      {!accounts.value && accounts.loading && <div className="page-loading" aria-busy="true" />}
      {accounts.value && (
        <>
          <ul className="admin-list" aria-busy={accounts.loading}>
            {accounts.value.serviceAccounts.map((sa) => (
              <AccountRow key={sa.id} account={sa} onChanged={reload} />
            ))}
          </ul>
          {accounts.value.serviceAccounts.length === 0 && <p className="empty-state">No service accounts{settledQuery ? ' match' : ' yet'}.</p>}
          <Pager page={page} perPage={PER_PAGE} total={total} onPage={setPage} testId="sa-pager" />
        </>
      )}
    </div>
  );
}

function CreateAccountForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<OrgRole>('Viewer');
  const action = useAction(() => {
    setName('');
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    void action.run(() => createServiceAccount(name.trim(), role));
  };
  return (
    <form className="admin-inline-form" onSubmit={submit} aria-label="New service account">
      <input placeholder="New service account name" aria-label="Name" data-testid="sa-create-name" value={name} onChange={(e) => setName(e.target.value)} />
      <select aria-label="Role" data-testid="sa-create-role" value={role} onChange={(e) => setRole(e.target.value as OrgRole)}>
        {ORG_ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button type="submit" className="button primary" data-testid="sa-create-submit" disabled={action.busy || !name.trim()}>
        Create
      </button>
      {action.error && (
        <p className="form-error" role="alert" data-testid="sa-create-error">
          {action.error}
        </p>
      )}
    </form>
  );
}

function AccountRow({ account, onChanged }: { account: ServiceAccount; onChanged: () => void }) {
  const [showTokens, setShowTokens] = useState(false);
  const [addingToken, setAddingToken] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [tokensVersion, setTokensVersion] = useState(0);
  const action = useAction(onChanged);
  const tokensChanged = () => {
    setTokensVersion((v) => v + 1);
    onChanged();
  };
  return (
    <li className="admin-item" data-testid="sa-row" data-name={account.name} data-id={account.id}>
      <div className="admin-item-main">
        <span className="admin-item-name">{account.name}</span>
        <span className="muted">{account.login}</span>
        {account.isDisabled && <span className="badge">disabled</span>}
        <select aria-label={`Role of ${account.name}`} data-testid="sa-role" value={account.role} disabled={action.busy} onChange={(e) => void action.run(() => updateServiceAccountRole(account.id, e.target.value as OrgRole))}>
          {ORG_ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button type="button" className="button ghost" data-testid="sa-tokens" aria-expanded={showTokens} onClick={() => setShowTokens(!showTokens)}>
          {account.tokens} token{account.tokens === 1 ? '' : 's'} {showTokens ? '▴' : '▾'}
        </button>
        <span className="actions">
          <button type="button" className="button" data-testid="sa-token-add" onClick={() => setAddingToken(true)}>
            Add token
          </button>
          {confirmDelete ? (
            <>
              <button type="button" className="button danger" data-testid="sa-delete-confirm" disabled={action.busy} onClick={() => void action.run(() => deleteServiceAccount(account.id))}>
                Delete {account.name} and its tokens
              </button>
              <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </>
          ) : (
            <button type="button" className="button danger" data-testid="sa-delete" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          )}
        </span>
      </div>
      {action.error && (
        <p className="form-error" role="alert">
          {action.error}
        </p>
      )}
      {showTokens && <TokenList accountId={account.id} version={tokensVersion} onChanged={tokensChanged} />}
      {addingToken && <AddTokenDialog account={account} onClose={() => setAddingToken(false)} onCreated={tokensChanged} />}
    </li>
  );
}

function TokenList({ accountId, version, onChanged }: { accountId: number; version: number; onChanged: () => void }) {
  // Loaded with the time of the answer: the clock for "expires in 3 d".
  const tokens = useListing(`${accountId}\u0000${version}`, async (signal) => ({ list: await listTokens(accountId, signal), now: Date.now() }));
  const action = useAction(onChanged);
  if (tokens.error) return <p className="form-error">{tokens.error}</p>;
  if (!tokens.value) return <div className="page-loading" aria-busy="true" />;
  const { list, now } = tokens.value;
  if (list.length === 0) return <p className="muted token-empty">No tokens.</p>;
  return (
    <>
      <table className="admin-table tokens">
        <thead>
          <tr>
            <th>Token</th>
            <th>Expires</th>
            <th>Created</th>
            <th>Last used</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {list.map((t) => (
            <tr key={t.id} data-testid="sa-token-row" data-name={t.name}>
              <td>{t.name}</td>
              <td>{t.hasExpired ? <span className="form-error">expired</span> : t.expiration ? relativeTime(t.expiration, now) : 'never'}</td>
              <td>{t.created ? relativeTime(t.created, now) : ''}</td>
              <td>{t.lastUsedAt ? relativeTime(t.lastUsedAt, now) : 'never'}</td>
              <td>
                <div className="actions">
                  <button type="button" className="button danger" data-testid="sa-token-delete" disabled={action.busy} onClick={() => void action.run(() => deleteToken(accountId, t.id))}>
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {action.error && <p className="form-error">{action.error}</p>}
    </>
  );
}

/** Names the token and its lifetime, then shows the key once: the server keeps only its hash. */
function AddTokenDialog({ account, onClose, onCreated }: { account: ServiceAccount; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [seconds, setSeconds] = useState(0);
  const [key, setKey] = useState<string>();
  const [copied, setCopied] = useState(false);
  const action = useAction(onCreated);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run(() => createToken(account.id, name.trim() || `${account.name}-token`, seconds));
    if (created) setKey(created.key);
  };
  const copy = async () => {
    if (!key) return;
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      // No clipboard (plain http, or denied): the key stays selected for a manual copy.
      document.querySelector<HTMLInputElement>('[data-testid="sa-token-key"]')?.select();
    }
  };
  return (
    <Modal title={`Add a token to ${account.name}`} onClose={onClose} testId="sa-token-dialog">
      {key ? (
        <div className="form">
          <p>Copy the token now: it is not shown again.</p>
          <div className="token-key">
            <input readOnly data-testid="sa-token-key" value={key} onFocus={(e) => e.target.select()} autoFocus />
            <button type="button" className="button" data-testid="sa-token-copy" onClick={() => void copy()}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
          <div className="form-actions">
            <button type="button" className="button primary" data-testid="sa-token-close" onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={submit}>
          <label>
            Name
            <input data-testid="sa-token-name" autoFocus value={name} placeholder={`${account.name}-token`} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Expiration
            <select data-testid="sa-token-expiry" value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
              {TOKEN_LIFETIMES.map((l) => (
                <option key={l.seconds} value={l.seconds}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          {action.error && (
            <p className="form-error" role="alert">
              {action.error}
            </p>
          )}
          <div className="form-actions">
            <button type="button" className="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="button primary" data-testid="sa-token-create" disabled={action.busy}>
              Generate token
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

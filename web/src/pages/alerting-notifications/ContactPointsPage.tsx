import { useCallback, useState, type FormEvent } from 'react';
import {
  createContactPoint,
  deleteContactPoint,
  getPolicyTree,
  listContactPoints,
  testContactPoint,
  updateContactPoint,
  type ContactPoint,
  type TestOutcome,
} from '../../api/alertingNotifications';
import { ErrorLine, useAction, useCanEdit, useListing } from './common';
import {
  CONTACT_POINT_TYPES,
  contactPointFromForm,
  contactPointSummary,
  emptyForm,
  formFromContactPoint,
  formProblems,
  typeLabel,
  typeSpec,
  type ContactPointForm,
  type FieldSpec,
} from './contactPointForm';
import { policiesByReceiver } from './policyTree';
import './notifications.css';

/** Integrations that share a name form one receiver, the name a policy routes to. */
function groupByName(list: ContactPoint[]): [string, ContactPoint[]][] {
  const groups = new Map<string, ContactPoint[]>();
  for (const cp of list) groups.set(cp.name, [...(groups.get(cp.name) ?? []), cp]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Where the editor opens: at the top (a new contact point), under a contact point (a new integration of it), or in place of an integration. */
type EditorPlace = { at: 'top' } | { at: 'group'; name: string } | { at: 'integration'; uid: string };

/** `/alerting/notifications`: the org's contact points, with a test for each and an editor. */
export function ContactPointsPage() {
  const canEdit = useCanEdit();
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const list = useListing(String(version), (signal) => listContactPoints(signal));
  // The policy tree, for "used by N policies": a contact point in use cannot lose its last integration.
  const tree = useListing(`policies\u0000${version}`, (signal) => getPolicyTree(signal));
  const usage = tree.value ? policiesByReceiver(tree.value) : undefined;
  const [editing, setEditing] = useState<{ form: ContactPointForm; place: EditorPlace }>();

  const editor = (place: EditorPlace) => {
    if (!editing || JSON.stringify(editing.place) !== JSON.stringify(place)) return null;
    return (
      <ContactPointEditor
        key={JSON.stringify(place)}
        initial={editing.form}
        onClose={() => setEditing(undefined)}
        onSaved={() => {
          setEditing(undefined);
          reload();
        }}
      />
    );
  };

  return (
    <div className="an-page">
      <div className="an-header">
        <h1>Contact points</h1>
        {canEdit && !editing && (
          <button type="button" className="button primary" data-testid="cp-add" onClick={() => setEditing({ form: emptyForm(), place: { at: 'top' } })}>
            Add contact point
          </button>
        )}
      </div>
      <p className="muted">Where notifications go. Integrations with the same name form one contact point, which notification policies route to by name.</p>
      {editor({ at: 'top' })}
      <ErrorLine error={list.error} testId="cp-list-error" />
      {!list.value && list.loading && <div className="page-loading" aria-busy="true" />}
      {list.value && list.value.length === 0 && <p className="empty-state">No contact points yet.</p>}
      {list.value && list.value.length > 0 && (
        <ul className="an-list" aria-busy={list.loading} data-testid="cp-list">
          {groupByName(list.value).map(([name, integrations]) => (
            <li key={name} className="an-item" data-testid="cp-group" data-name={name}>
              <div className="an-item-main">
                <span className="an-item-name">{name}</span>
                <span className="muted">
                  {integrations.length} integration{integrations.length === 1 ? '' : 's'}
                </span>
                {usage && (
                  <span className={usage.get(name) ? 'badge' : 'muted'} data-testid="cp-usage" title="Notification policies that route to this contact point">
                    {usage.get(name) ? `used by ${usage.get(name)} polic${usage.get(name) === 1 ? 'y' : 'ies'}` : 'unused'}
                  </span>
                )}
                {canEdit && !editing && (
                  <span className="actions">
                    <button type="button" className="button ghost" data-testid="cp-add-integration" onClick={() => setEditing({ form: { ...emptyForm(), name }, place: { at: 'group', name } })}>
                      Add integration
                    </button>
                  </span>
                )}
              </div>
              {editor({ at: 'group', name })}
              <ul className="an-sublist">
                {integrations.map((cp) =>
                  editing?.place.at === 'integration' && editing.place.uid === cp.uid ? (
                    <li key={cp.uid} className="an-subitem">
                      {editor({ at: 'integration', uid: cp.uid })}
                    </li>
                  ) : (
                    <IntegrationRow key={cp.uid} cp={cp} canEdit={canEdit && !editing} onEdit={() => setEditing({ form: formFromContactPoint(cp), place: { at: 'integration', uid: cp.uid } })} onChanged={reload} />
                  ),
                )}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function TestResult({ outcome, testId }: { outcome?: TestOutcome; testId: string }) {
  if (!outcome) return null;
  return (
    <div className={`test-result ${outcome.ok ? 'ok' : 'error'}`} role="status" data-testid={testId} data-ok={outcome.ok}>
      {outcome.ok ? 'Test notification sent' : `Test failed: ${outcome.error}`}
    </div>
  );
}

function IntegrationRow({ cp, canEdit, onEdit, onChanged }: { cp: ContactPoint; canEdit: boolean; onEdit: () => void; onChanged: () => void }) {
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [outcome, setOutcome] = useState<TestOutcome>();
  const remove = useAction(onChanged);
  const test = useAction(() => undefined);
  const runTest = async () => {
    setOutcome(undefined);
    const result = await test.run(() => testContactPoint({ uid: cp.uid, name: cp.name, type: cp.type, settings: cp.settings, disableResolveMessage: cp.disableResolveMessage }));
    if (result) setOutcome(result);
  };
  return (
    <li className="an-subitem" data-testid="cp-row" data-name={cp.name} data-uid={cp.uid} data-type={cp.type}>
      <div className="an-item-main">
        <span className="badge">{typeLabel(cp.type)}</span>
        <span className="an-summary">{contactPointSummary(cp)}</span>
        {cp.provenance && (
          <span className="badge" title="Saved through the provisioning API">
            {cp.provenance}
          </span>
        )}
        {canEdit && (
          <span className="actions">
            <button type="button" className="button" data-testid="cp-test" disabled={test.busy} onClick={() => void runTest()}>
              {test.busy ? 'Testing…' : 'Test'}
            </button>
            <button type="button" className="button" data-testid="cp-edit" onClick={onEdit}>
              Edit
            </button>
            {confirmDelete ? (
              <>
                <button type="button" className="button danger" data-testid="cp-delete-confirm" disabled={remove.busy} onClick={() => void remove.run(() => deleteContactPoint(cp.uid))}>
                  Delete {cp.name} ({typeLabel(cp.type)})
                </button>
                <button
                  type="button"
                  className="button"
                  onClick={() => {
                    setConfirmDelete(false);
                    remove.clear();
                  }}
                >
                  Cancel
                </button>
              </>
            ) : (
              <button type="button" className="button danger" data-testid="cp-delete" onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            )}
          </span>
        )}
      </div>
      <TestResult outcome={outcome} testId="cp-test-result" />
      <ErrorLine error={test.error} testId="cp-test-error" />
      <ErrorLine error={remove.error} testId="cp-delete-error" />
    </li>
  );
}

function ContactPointEditor({ initial, onClose, onSaved }: { initial: ContactPointForm; onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState(initial);
  const [outcome, setOutcome] = useState<TestOutcome>();
  const [showProblems, setShowProblems] = useState(false);
  const save = useAction(onSaved);
  const test = useAction(() => undefined);
  const problems = formProblems(form);
  const spec = typeSpec(form.type);
  const creating = !form.uid;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShowProblems(true);
    if (problems.length) return;
    const body = contactPointFromForm(form);
    const uid = form.uid;
    void save.run(async () => {
      if (uid) await updateContactPoint(uid, body);
      else await createContactPoint(body);
    });
  };
  const runTest = async () => {
    setShowProblems(true);
    setOutcome(undefined);
    if (problems.length) return;
    const result = await test.run(() => testContactPoint(contactPointFromForm(form)));
    if (result) setOutcome(result);
  };
  const setValue = (key: string, value: string) => setForm((f) => ({ ...f, values: { ...f.values, [key]: value } }));

  return (
    <form className="form an-editor" onSubmit={submit} aria-label={creating ? 'New contact point' : `Edit ${initial.name}`} data-testid="cp-form">
      <h2>{creating ? 'New contact point' : `Edit ${initial.name}`}</h2>
      <label>
        Name
        <input data-testid="cp-name" value={form.name} autoFocus={creating} onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))} />
      </label>
      <label>
        Integration
        <select data-testid="cp-type" value={form.type} onChange={(e) => setForm((f) => ({ ...f, type: e.target.value }))}>
          {CONTACT_POINT_TYPES.map((t) => (
            <option key={t.type} value={t.type}>
              {t.label}
            </option>
          ))}
          {!spec && <option value={form.type}>{form.type}</option>}
        </select>
      </label>
      {spec?.fields.map((field) => (
        <Field
          key={`${form.type}/${field.key}`}
          field={field}
          form={form}
          onValue={(v) => setValue(field.key, v)}
          onFlag={(v) => setForm((f) => ({ ...f, flags: { ...f.flags, [field.key]: v } }))}
          onSecret={(s) => setForm((f) => ({ ...f, secrets: { ...f.secrets, [field.key]: s } }))}
        />
      ))}
      <label className="checkbox">
        <input type="checkbox" data-testid="cp-disable-resolve" checked={form.disableResolveMessage} onChange={(e) => setForm((f) => ({ ...f, disableResolveMessage: e.target.checked }))} />
        Do not send a message when alerts resolve
      </label>
      {showProblems && problems.length > 0 && (
        <ul className="form-error an-problems" role="alert" data-testid="cp-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <TestResult outcome={outcome} testId="cp-form-test-result" />
      <ErrorLine error={test.error} testId="cp-form-test-error" />
      <ErrorLine error={save.error} testId="cp-save-error" />
      <div className="form-actions">
        <button type="submit" className="button primary" data-testid="cp-save" disabled={save.busy}>
          {creating ? 'Create' : 'Save'}
        </button>
        <button type="button" className="button" data-testid="cp-form-test" disabled={test.busy} onClick={() => void runTest()}>
          {test.busy ? 'Testing…' : 'Test'}
        </button>
        <button type="button" className="button" data-testid="cp-cancel" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Field({
  field,
  form,
  onValue,
  onFlag,
  onSecret,
}: {
  field: FieldSpec;
  form: ContactPointForm;
  onValue: (v: string) => void;
  onFlag: (v: boolean) => void;
  onSecret: (s: ContactPointForm['secrets'][string]) => void;
}) {
  const testId = `cp-field-${field.key}`;
  const value = form.values[field.key] ?? '';
  switch (field.kind) {
    case 'checkbox':
      return (
        <label className="checkbox">
          <input type="checkbox" data-testid={testId} checked={!!form.flags[field.key]} onChange={(e) => onFlag(e.target.checked)} />
          {field.label}
        </label>
      );
    case 'select':
      return (
        <label>
          {field.label}
          <select data-testid={testId} value={value || field.options?.[0]} onChange={(e) => onValue(e.target.value)}>
            {field.options?.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
      );
    case 'secret': {
      const secret = form.secrets[field.key] ?? { configured: false, reset: false, value: '' };
      if (secret.configured && !secret.reset && secret.value === '') {
        return (
          <div className="secret-configured" data-testid={`${testId}-configured`}>
            <span className="label">{field.label}</span>
            <input value="configured" disabled aria-label={field.label} />
            <button type="button" className="button" data-testid={`${testId}-reset`} onClick={() => onSecret({ ...secret, reset: true })}>
              Reset
            </button>
          </div>
        );
      }
      return (
        <label>
          {field.label}
          <input type="password" autoComplete="new-password" data-testid={testId} value={secret.value} onChange={(e) => onSecret({ ...secret, value: e.target.value })} />
          {secret.configured && <span className="muted an-help">The stored value is cleared on save unless you type a new one.</span>}
        </label>
      );
    }
    case 'textarea':
    case 'list':
      return (
        <label>
          {field.label}
          <textarea data-testid={testId} rows={field.kind === 'list' ? 3 : 4} value={value} placeholder={field.placeholder} onChange={(e) => onValue(e.target.value)} />
          {field.help && <span className="muted an-help">{field.help}</span>}
        </label>
      );
    default:
      return (
        <label>
          {field.label}
          <input data-testid={testId} value={value} placeholder={field.placeholder} onChange={(e) => onValue(e.target.value)} />
          {field.help && <span className="muted an-help">{field.help}</span>}
        </label>
      );
  }
}

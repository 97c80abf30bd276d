import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { getPolicyTree, listContactPoints, resetPolicyTree, savePolicyTree, type Policy, type PolicyTree } from '../../api/alertingNotifications';
import { ErrorLine, useAction, useCanEdit, useListing } from './common';
import { MatcherChips, MatcherEditor } from './MatcherEditor';
import { fromObjectMatcher } from './matchers';
import {
  addChildPolicy,
  applyPolicyForm,
  movePolicy,
  policyAt,
  policyFormProblems,
  policyToForm,
  receiversOf,
  removePolicy,
  treeForSave,
  updatePolicy,
  type PolicyForm,
  type PolicyPath,
} from './policyTree';
import './notifications.css';

/** What the inline editor is doing: changing the policy at `path`, or adding a child under it. */
type Editing = { mode: 'edit' | 'add'; path: PolicyPath };

const samePath = (a: PolicyPath, b: PolicyPath) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * `/alerting/routes`: the notification policy tree. Changes are made to a draft of the whole tree,
 * then saved with one PUT (the server checks receivers, matchers and durations and answers 400
 * with the reason); Reset goes back to the default policy.
 */
export function PoliciesPage() {
  const canEdit = useCanEdit();
  const [version, setVersion] = useState(0);
  const loaded = useListing(String(version), (signal) => getPolicyTree(signal));
  const contactPoints = useListing('contact-points', (signal) => listContactPoints(signal));
  // The draft is based on one answer of the server; a fresh answer (after a save or a reset)
  // replaces it and closes the editor.
  const [edits, setEdits] = useState<{ base: PolicyTree; tree: PolicyTree; editing?: Editing }>();
  const current = edits && edits.base === loaded.value ? edits : loaded.value ? { base: loaded.value, tree: loaded.value, editing: undefined } : undefined;
  const draft = current?.tree;
  const editing = current?.editing;
  const [confirmReset, setConfirmReset] = useState(false);
  const [savedNote, setSavedNote] = useState<string>();
  const reload = () => setVersion((v) => v + 1);
  const save = useAction(() => {
    setSavedNote('Saved');
    reload();
  });
  const reset = useAction(() => {
    setConfirmReset(false);
    setSavedNote('Reset to the default policy');
    reload();
  });
  // Functional updates: applying a form changes the tree and closes the editor in one event.
  const patch = (change: { tree?: PolicyTree; editing?: Editing | undefined }) =>
    setEdits((prev) => {
      const base = loaded.value;
      if (!base) return prev;
      const from = prev && prev.base === base ? prev : { base, tree: base, editing: undefined };
      return { ...from, ...change };
    });
  const setEditing = (e?: Editing) => patch({ editing: e });

  const receivers = [...new Set((contactPoints.value ?? []).map((cp) => cp.name))].sort();
  const dirty = !!draft && !!loaded.value && JSON.stringify(draft) !== JSON.stringify(loaded.value);
  const missing = draft && contactPoints.value ? receiversOf(draft).filter((r) => !receivers.includes(r)) : [];

  // Leaving the page (reload, closing the tab) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const change = (next: PolicyTree) => {
    patch({ tree: next });
    setSavedNote(undefined);
    save.clear();
  };

  return (
    <div className="an-page">
      <div className="an-header">
        <h1>Notification policies</h1>
      </div>
      <p className="muted">
        Every alert starts at the default policy and goes down to the first nested policy whose matchers all match (further siblings too when a policy says continue); it is sent to the contact point of the deepest policy it reaches. Empty settings inherit from the parent.
      </p>
      <ErrorLine error={loaded.error} testId="policy-load-error" />
      <ErrorLine error={contactPoints.error && `Contact points could not be listed: ${contactPoints.error}`} />
      {contactPoints.value && contactPoints.value.length === 0 && (
        <p className="form-error" data-testid="policy-no-contact-points">
          There are no contact points yet: policies route alerts to one. <Link to="/alerting/notifications">Add a contact point</Link> first.
        </p>
      )}
      {missing.length > 0 && <ErrorLine error={`The tree routes to contact points that do not exist: ${missing.join(', ')}. Saving fails until they exist or the policies change.`} testId="policy-missing-receivers" />}
      {!draft && loaded.loading && <div className="page-loading" aria-busy="true" />}
      {draft && (
        <>
          {canEdit && (
            <div className="an-actions-bar">
              <button type="button" className="button primary" data-testid="policy-save" disabled={!dirty || save.busy || !!editing} onClick={() => void save.run(() => savePolicyTree(treeForSave(draft)))}>
                Save policies
              </button>
              {/* Discarding loads the tree again: after a 409 the draft's base is someone else's past. */}
              <button
                type="button"
                className="button"
                data-testid="policy-discard"
                disabled={(!dirty && !save.error) || loaded.loading}
                onClick={() => {
                  save.clear();
                  setSavedNote(undefined);
                  reload();
                }}
              >
                Discard changes
              </button>
              {confirmReset ? (
                <>
                  <button type="button" className="button danger" data-testid="policy-reset-confirm" disabled={reset.busy} onClick={() => void reset.run(() => resetPolicyTree())}>
                    Reset every policy to the default
                  </button>
                  <button type="button" className="button" onClick={() => setConfirmReset(false)}>
                    Cancel
                  </button>
                </>
              ) : (
                <button type="button" className="button danger" data-testid="policy-reset" onClick={() => setConfirmReset(true)}>
                  Reset
                </button>
              )}
              {dirty && <span className="an-dirty" data-testid="policy-dirty">Unsaved changes</span>}
              {!dirty && savedNote && (
                <span className="muted" role="status" data-testid="policy-saved">
                  {savedNote}
                </span>
              )}
              {draft.provenance && <span className="badge" title="Last saved through the provisioning API">{draft.provenance}</span>}
            </div>
          )}
          <ErrorLine error={save.error} testId="policy-save-error" />
          <ErrorLine error={reset.error} testId="policy-reset-error" />
          <PolicyNode
            tree={draft}
            path={[]}
            receivers={receivers}
            canEdit={canEdit}
            editing={editing}
            onEditing={setEditing}
            onChange={change}
          />
        </>
      )}
    </div>
  );
}

function describeTimings(p: Policy): string[] {
  const out: string[] = [];
  if (p.group_wait) out.push(`wait ${p.group_wait}`);
  if (p.group_interval) out.push(`interval ${p.group_interval}`);
  if (p.repeat_interval) out.push(`repeat ${p.repeat_interval}`);
  return out;
}

function PolicyNode({
  tree,
  path,
  receivers,
  canEdit,
  editing,
  onEditing,
  onChange,
}: {
  tree: PolicyTree;
  path: PolicyPath;
  receivers: string[];
  canEdit: boolean;
  editing?: Editing;
  onEditing: (e?: Editing) => void;
  onChange: (t: PolicyTree) => void;
}) {
  const policy = policyAt(tree, path);
  if (!policy) return null;
  const isRoot = path.length === 0;
  const editingThis = editing && samePath(editing.path, path) ? editing.mode : undefined;
  const siblings = isRoot ? 1 : (policyAt(tree, path.slice(0, -1))?.routes?.length ?? 1);
  const index = path[path.length - 1] ?? 0;
  const timings = describeTimings(policy);
  return (
    <div className="an-policy" data-testid={isRoot ? 'policy-root' : 'policy-node'} data-path={path.join('.')}>
      <div className="an-item-main">
        <span className="an-item-name">{isRoot ? 'Default policy' : <MatcherChips matchers={(policy.object_matchers ?? []).map(fromObjectMatcher)} empty="matches every alert" />}</span>
        <span data-testid="policy-receiver">
          → {policy.receiver ? <strong>{policy.receiver}</strong> : <span className="muted">inherited contact point</span>}
        </span>
        {policy.continue && <span className="badge">continue</span>}
        {canEdit && !editing && (
          <span className="actions">
            {!isRoot && (
              <>
                <button type="button" className="button ghost" aria-label="Move up" disabled={index === 0} onClick={() => onChange(movePolicy(tree, path, -1))}>
                  ↑
                </button>
                <button type="button" className="button ghost" aria-label="Move down" disabled={index >= siblings - 1} onClick={() => onChange(movePolicy(tree, path, 1))}>
                  ↓
                </button>
              </>
            )}
            <button type="button" className="button" data-testid="policy-edit" onClick={() => onEditing({ mode: 'edit', path })}>
              Edit
            </button>
            <button type="button" className="button" data-testid="policy-add-child" onClick={() => onEditing({ mode: 'add', path })}>
              Add nested policy
            </button>
            {!isRoot && (
              <button type="button" className="button danger" data-testid="policy-delete" onClick={() => onChange(removePolicy(tree, path))}>
                Delete
              </button>
            )}
          </span>
        )}
      </div>
      <div className="an-policy-facts">
        <span>group by {policy.group_by ? (policy.group_by.length ? policy.group_by.join(', ') : 'nothing') : 'inherited'}</span>
        {timings.length > 0 && <span>{timings.join(' · ')}</span>}
        {(policy.mute_time_intervals?.length ?? 0) > 0 && <span>muted during {policy.mute_time_intervals!.join(', ')}</span>}
      </div>
      {editingThis === 'edit' && (
        <PolicyEditor
          initial={policyToForm(policy)}
          isRoot={isRoot}
          receivers={receivers}
          title={isRoot ? 'Edit the default policy' : 'Edit nested policy'}
          applyLabel="Update"
          onCancel={() => onEditing(undefined)}
          onApply={(form) => {
            onChange(updatePolicy(tree, path, (p) => applyPolicyForm(p, form, isRoot)));
            onEditing(undefined);
          }}
        />
      )}
      {editingThis === 'add' && (
        <PolicyEditor
          initial={policyToForm({ object_matchers: [['', '=', '']] })}
          isRoot={false}
          receivers={receivers}
          title="New nested policy"
          applyLabel="Add"
          onCancel={() => onEditing(undefined)}
          onApply={(form) => {
            onChange(addChildPolicy(tree, path, applyPolicyForm({}, form, false)));
            onEditing(undefined);
          }}
        />
      )}
      {(policy.routes?.length ?? 0) > 0 && (
        <div className="an-policy-children">
          {policy.routes!.map((_, i) => (
            <PolicyNode key={i} tree={tree} path={[...path, i]} receivers={receivers} canEdit={canEdit} editing={editing} onEditing={onEditing} onChange={onChange} />
          ))}
        </div>
      )}
    </div>
  );
}

function PolicyEditor({
  initial,
  isRoot,
  receivers,
  title,
  applyLabel,
  onCancel,
  onApply,
}: {
  initial: PolicyForm;
  isRoot: boolean;
  receivers: string[];
  title: string;
  applyLabel: string;
  onCancel: () => void;
  onApply: (form: PolicyForm) => void;
}) {
  const [form, setForm] = useState(initial);
  const [problems, setProblems] = useState<string[]>([]);
  const set = (change: Partial<PolicyForm>) => setForm((f) => ({ ...f, ...change }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = policyFormProblems(form, isRoot);
    setProblems(found);
    if (found.length === 0) onApply(form);
  };
  // A receiver no contact point has any more stays selectable, so opening the form changes nothing.
  const options = form.receiver && !receivers.includes(form.receiver) ? [form.receiver, ...receivers] : receivers;
  return (
    <form className="form an-editor" onSubmit={submit} aria-label={title} data-testid="policy-form">
      <h2>{title}</h2>
      {!isRoot && (
        <fieldset className="an-fieldset">
          <legend>Matchers: the policy takes alerts with all of these labels</legend>
          <MatcherEditor matchers={form.matchers} onChange={(matchers) => set({ matchers })} testId="policy-matchers" />
        </fieldset>
      )}
      <label>
        Contact point
        <select data-testid="policy-receiver-select" value={form.receiver} onChange={(e) => set({ receiver: e.target.value })}>
          {!isRoot && <option value="">inherit from the parent policy</option>}
          {isRoot && !form.receiver && <option value="">choose a contact point</option>}
          {options.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      {!isRoot && (
        <label className="checkbox">
          <input type="checkbox" data-testid="policy-continue" checked={form.continueMatching} onChange={(e) => set({ continueMatching: e.target.checked })} />
          Continue matching the following sibling policies
        </label>
      )}
      {!isRoot && (
        <label className="checkbox">
          <input type="checkbox" data-testid="policy-override-grouping" checked={form.overrideGrouping} onChange={(e) => set({ overrideGrouping: e.target.checked })} />
          Override grouping
        </label>
      )}
      {(isRoot || form.overrideGrouping) && (
        <label>
          Group by
          <input data-testid="policy-group-by" value={form.groupBy} placeholder="grafana_folder, alertname" onChange={(e) => set({ groupBy: e.target.value })} />
          <span className="muted an-help">Labels, comma separated; "..." groups by every label.</span>
        </label>
      )}
      <div className="an-row">
        <label>
          Group wait
          <input data-testid="policy-group-wait" value={form.groupWait} placeholder={isRoot ? '30s' : 'inherit'} onChange={(e) => set({ groupWait: e.target.value })} />
        </label>
        <label>
          Group interval
          <input data-testid="policy-group-interval" value={form.groupInterval} placeholder={isRoot ? '5m' : 'inherit'} onChange={(e) => set({ groupInterval: e.target.value })} />
        </label>
        <label>
          Repeat interval
          <input data-testid="policy-repeat-interval" value={form.repeatInterval} placeholder={isRoot ? '4h' : 'inherit'} onChange={(e) => set({ repeatInterval: e.target.value })} />
        </label>
      </div>
      {problems.length > 0 && (
        <ul className="form-error an-problems" role="alert" data-testid="policy-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" data-testid="policy-apply">
          {applyLabel}
        </button>
        <button type="button" className="button" data-testid="policy-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

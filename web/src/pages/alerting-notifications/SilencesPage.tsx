import { useCallback, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { expireSilence, listSilences, saveSilence, type Silence } from '../../api/alertingNotifications';
import { ErrorLine, useAction, useCanEdit, useListing, useNow } from './common';
import { MatcherChips, MatcherEditor } from './MatcherEditor';
import { formatMatcher, fromSilenceMatcher } from './matchers';
import { useDebouncedValue } from '../../app/useDebouncedValue';
import { emptySilenceForm, formatDuration, matchersFromQuery, parseDuration, silenceFromForm, silenceToForm, type SilenceForm } from './silenceForm';
import './notifications.css';

const STATE_ORDER: Record<string, number> = { active: 0, pending: 1, expired: 2 };

/** Active first, then pending, then expired; within each, the one ending soonest (expired: latest) first. */
function sortSilences(list: Silence[]): Silence[] {
  return [...list].sort((a, b) => {
    const byState = (STATE_ORDER[a.status.state] ?? 3) - (STATE_ORDER[b.status.state] ?? 3);
    if (byState) return byState;
    const diff = Date.parse(a.endsAt) - Date.parse(b.endsAt);
    return a.status.state === 'expired' ? -diff : diff;
  });
}

const formatTime = (iso: string) => new Date(iso).toLocaleString();

/** The filter box's matchers, as `filter=` values the server takes, and what did not parse. */
function parseFilter(text: string): { query: string[]; problems: string[] } {
  const params = new URLSearchParams();
  if (text.trim()) params.append('matcher', text);
  const { matchers, problems } = matchersFromQuery(params);
  return { query: matchers.map(formatMatcher), problems };
}

/** `/alerting/silences`: silences of this org's alerts; `?matcher=alertname=X` opens a new one for X. */
export function SilencesPage() {
  const canEdit = useCanEdit();
  const [params, setParams] = useSearchParams();
  const [version, setVersion] = useState(0);
  const [showExpired, setShowExpired] = useState(true);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  // The filter: matchers a silence must carry (Alertmanager's `filter=`), typed as `a=b, c=~d`.
  const [filterText, setFilterText] = useState('');
  const settledFilter = useDebouncedValue(filterText, 300);
  const filter = parseFilter(settledFilter);
  const list = useListing(`${version}\u0000${filter.query.join('\u0000')}`, async (signal) => ({ silences: await listSilences(filter.query, signal), now: Date.now() }));
  const fromQuery = matchersFromQuery(params);
  const now = useNow();
  // Matchers handed over in the URL open the form for a new silence of them.
  const [form, setForm] = useState<SilenceForm | undefined>(() => (params.has('matcher') ? emptySilenceForm(Date.now(), matchersFromQuery(params).matchers) : undefined));
  // The form shows once the role is known to allow writes.
  const wanted = canEdit ? form : undefined;
  const closeForm = () => {
    setForm(undefined);
    if (params.has('matcher')) {
      const next = new URLSearchParams(params);
      next.delete('matcher');
      setParams(next, { replace: true });
    }
  };

  const silences = list.value ? sortSilences(list.value.silences).filter((s) => showExpired || s.status.state !== 'expired') : [];
  return (
    <div className="an-page">
      <div className="an-header">
        <h1>Silences</h1>
        {canEdit && !wanted && (
          <button type="button" className="button primary" data-testid="silence-add" onClick={() => setForm(emptySilenceForm(now))}>
            New silence
          </button>
        )}
      </div>
      <p className="muted">A silence mutes the notifications of alerts its matchers select, from its start to its end. Alerts keep being evaluated.</p>
      {fromQuery.problems.length > 0 && <ErrorLine error={`Ignored from the link: ${fromQuery.problems.join('; ')}`} testId="silence-query-error" />}
      {wanted && (
        <SilenceEditor
          key={wanted.id ?? 'new'}
          initial={wanted}
          onClose={closeForm}
          onSaved={() => {
            closeForm();
            reload();
          }}
        />
      )}
      <div className="an-actions-bar">
        <input
          type="search"
          className="an-filter"
          placeholder='Filter by matchers, e.g. alertname=Disk, team=~"ops|dev"'
          aria-label="Filter silences by matchers"
          data-testid="silence-filter"
          value={filterText}
          onChange={(e) => setFilterText(e.target.value)}
        />
        <label className="checkbox">
          <input type="checkbox" data-testid="silence-show-expired" checked={showExpired} onChange={(e) => setShowExpired(e.target.checked)} />
          Show expired silences
        </label>
      </div>
      <ErrorLine error={filter.problems.join('; ')} testId="silence-filter-error" />
      <ErrorLine error={list.error} testId="silence-list-error" />
      {!list.value && list.loading && <div className="page-loading" aria-busy="true" />}
      {list.value && silences.length === 0 && (
        <p className="empty-state">
          No silences{showExpired ? '' : ' in force'}
          {filter.query.length ? ' with these matchers' : ''}.
        </p>
      )}
      {list.value && silences.length > 0 && (
        <table className="an-table" aria-busy={list.loading} data-testid="silence-list">
          <thead>
            <tr>
              <th>State</th>
              <th>Matchers</th>
              <th>Starts</th>
              <th>Ends</th>
              <th>Comment</th>
              <th>Created by</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {silences.map((s) => (
              <SilenceRow key={s.id} silence={s} now={Math.max(now, list.value!.now)} canEdit={canEdit} onEdit={() => setForm(silenceToForm(s))} onRecreate={() => setForm({ ...emptySilenceForm(now, s.matchers.map(fromSilenceMatcher)), comment: s.comment })} onChanged={reload} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function SilenceRow({ silence, now, canEdit, onEdit, onRecreate, onChanged }: { silence: Silence; now: number; canEdit: boolean; onEdit: () => void; onRecreate: () => void; onChanged: () => void }) {
  const [confirm, setConfirm] = useState(false);
  const expire = useAction(onChanged);
  const state = silence.status.state;
  const ends = Date.parse(silence.endsAt);
  const starts = Date.parse(silence.startsAt);
  return (
    <tr data-testid="silence-row" data-id={silence.id} data-state={state}>
      <td>
        <span className={`an-state ${state}`} data-testid="silence-state">
          {state}
        </span>
        {state === 'active' && <div className="muted an-help">ends in {formatDuration(ends - now)}</div>}
        {state === 'pending' && <div className="muted an-help">starts in {formatDuration(starts - now)}</div>}
      </td>
      <td>
        <MatcherChips matchers={silence.matchers.map(fromSilenceMatcher)} />
      </td>
      <td>{formatTime(silence.startsAt)}</td>
      <td>{formatTime(silence.endsAt)}</td>
      <td data-testid="silence-comment">{silence.comment}</td>
      <td>{silence.createdBy}</td>
      <td>
        {canEdit && (
          <div className="actions">
            {state === 'expired' ? (
              <button type="button" className="button" data-testid="silence-recreate" onClick={onRecreate}>
                Recreate
              </button>
            ) : (
              <>
                <button type="button" className="button" data-testid="silence-edit" onClick={onEdit}>
                  Edit
                </button>
                {confirm ? (
                  <>
                    <button type="button" className="button danger" data-testid="silence-expire-confirm" disabled={expire.busy} onClick={() => void expire.run(() => expireSilence(silence.id))}>
                      Expire now
                    </button>
                    <button type="button" className="button" onClick={() => setConfirm(false)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button type="button" className="button danger" data-testid="silence-expire" onClick={() => setConfirm(true)}>
                    Expire
                  </button>
                )}
              </>
            )}
          </div>
        )}
        <ErrorLine error={expire.error} testId="silence-expire-error" />
      </td>
    </tr>
  );
}

function SilenceEditor({ initial, onClose, onSaved }: { initial: SilenceForm; onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState(initial);
  const [problems, setProblems] = useState<string[]>([]);
  const now = useNow(10_000);
  const save = useAction(onSaved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { silence, problems } = silenceFromForm(form, Date.now());
    setProblems(problems);
    if (silence) void save.run(() => saveSilence(silence));
  };
  const length = form.mode === 'duration' ? parseDuration(form.duration) : undefined;
  return (
    <form className="form an-editor" onSubmit={submit} aria-label={form.id ? 'Edit silence' : 'New silence'} data-testid="silence-form">
      <h2>{form.id ? 'Edit silence' : 'New silence'}</h2>
      <fieldset className="an-fieldset">
        <legend>Matchers: alerts with all of these labels are silenced</legend>
        <MatcherEditor matchers={form.matchers} onChange={(matchers) => setForm((f) => ({ ...f, matchers }))} testId="silence-matchers" />
      </fieldset>
      <div className="an-radios" role="radiogroup" aria-label="When">
        <label className="checkbox">
          <input type="radio" name="silence-mode" data-testid="silence-mode-duration" checked={form.mode === 'duration'} onChange={() => setForm((f) => ({ ...f, mode: 'duration' }))} />
          For a duration from now
        </label>
        <label className="checkbox">
          <input type="radio" name="silence-mode" data-testid="silence-mode-range" checked={form.mode === 'range'} onChange={() => setForm((f) => ({ ...f, mode: 'range' }))} />
          From a start to an end
        </label>
      </div>
      {form.mode === 'duration' ? (
        <label>
          Duration
          <input data-testid="silence-duration" value={form.duration} placeholder="2h" onChange={(e) => setForm((f) => ({ ...f, duration: e.target.value }))} />
          <span className="muted an-help">{length ? `Ends about ${new Date(now + length).toLocaleString()}` : 'e.g. 30m, 2h, 1d 12h, 1w'}</span>
        </label>
      ) : (
        <div className="an-row">
          <label>
            Start
            <input type="datetime-local" data-testid="silence-start" value={form.startsAt} onChange={(e) => setForm((f) => ({ ...f, startsAt: e.target.value }))} />
          </label>
          <label>
            End
            <input type="datetime-local" data-testid="silence-end" value={form.endsAt} onChange={(e) => setForm((f) => ({ ...f, endsAt: e.target.value }))} />
          </label>
        </div>
      )}
      <label>
        Comment
        <textarea data-testid="silence-comment-input" rows={2} value={form.comment} onChange={(e) => setForm((f) => ({ ...f, comment: e.target.value }))} />
      </label>
      {problems.length > 0 && (
        <ul className="form-error an-problems" role="alert" data-testid="silence-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <ErrorLine error={save.error} testId="silence-save-error" />
      <div className="form-actions">
        <button type="submit" className="button primary" data-testid="silence-save" disabled={save.busy}>
          {form.id ? 'Save' : 'Create'}
        </button>
        <button type="button" className="button" data-testid="silence-cancel" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

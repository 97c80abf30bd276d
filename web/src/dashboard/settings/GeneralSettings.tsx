import { useState, type KeyboardEvent } from 'react';
import { useDashboardEditor } from '../editor';
import type { DashboardModel } from '../model';
import { FolderSelect } from './FolderSelect';
import { DEFAULT_REFRESH_INTERVALS, parseRefreshIntervals, timeError } from './generalModel';

interface TimePickerSettings {
  refresh_intervals?: string[];
  hidden?: boolean;
  [key: string]: unknown;
}

const timepickerOf = (d: DashboardModel): TimePickerSettings => (d.timepicker && typeof d.timepicker === 'object' ? (d.timepicker as TimePickerSettings) : {});

/** General: title, description, tags, folder, editable, time options and the graph tooltip. */
export function GeneralSettings() {
  const editor = useDashboardEditor();
  const { dashboard, update, meta } = editor;
  const set = (patch: Partial<DashboardModel>) => update((d) => ({ ...d, ...patch }));
  const setTimepicker = (patch: Partial<TimePickerSettings>) => update((d) => ({ ...d, timepicker: { ...timepickerOf(d), ...patch } }));
  const timepicker = timepickerOf(dashboard);

  return (
    <div className="settings-form">
      <h2>General</h2>
      <label>
        Title
        <input data-testid="settings-title" value={dashboard.title ?? ''} onChange={(e) => set({ title: e.target.value })} />
      </label>
      {!dashboard.title?.trim() && <span className="field-error">The dashboard needs a title to be saved.</span>}
      <label>
        Description
        <textarea data-testid="settings-description" rows={3} value={typeof dashboard.description === 'string' ? dashboard.description : ''} onChange={(e) => set({ description: e.target.value })} />
      </label>
      <div className="settings-field">
        <span className="settings-label">Tags</span>
        <TagsInput tags={dashboard.tags ?? []} onChange={(tags) => set({ tags })} />
      </div>
      <label>
        Folder
        <FolderSelect value={editor.folder.uid} onChange={editor.setFolder} testId="settings-folder" />
      </label>
      {editor.folder.uid !== (meta.folderUid ?? '') && <span className="settings-hint">The dashboard moves to this folder when you save it.</span>}
      <fieldset className="settings-radios">
        <legend>Editable</legend>
        <label className="checkbox">
          <input type="radio" name="editable" data-testid="settings-editable" checked={dashboard.editable !== false} onChange={() => set({ editable: true })} /> Editable
        </label>
        <label className="checkbox">
          <input type="radio" name="editable" data-testid="settings-readonly" checked={dashboard.editable === false} onChange={() => set({ editable: false })} /> Read-only
        </label>
      </fieldset>

      <h3>Time options</h3>
      <label>
        Time zone
        <select data-testid="settings-timezone" value={dashboard.timezone ?? ''} onChange={(e) => set({ timezone: e.target.value })}>
          <option value="">Default</option>
          <option value="browser">Browser time</option>
          <option value="utc">Coordinated Universal Time (UTC)</option>
          {/* A zone Pharos does not offer (an IANA name from Grafana) stays selectable as it is. */}
          {dashboard.timezone && !['browser', 'utc'].includes(dashboard.timezone) && <option value={dashboard.timezone}>{dashboard.timezone}</option>}
        </select>
      </label>
      <TimeRangeFields from={dashboard.time?.from ?? 'now-6h'} to={dashboard.time?.to ?? 'now'} onChange={(time) => set({ time })} />
      <RefreshIntervalsField intervals={timepicker.refresh_intervals ?? DEFAULT_REFRESH_INTERVALS} onChange={(refresh_intervals) => setTimepicker({ refresh_intervals })} />
      <label className="checkbox">
        <input type="checkbox" data-testid="settings-hide-time-picker" checked={timepicker.hidden === true} onChange={(e) => setTimepicker({ hidden: e.target.checked })} /> Hide time picker
      </label>

      <h3>Panel options</h3>
      <label>
        Graph tooltip
        <select data-testid="settings-graph-tooltip" value={Number(dashboard.graphTooltip ?? 0)} onChange={(e) => set({ graphTooltip: Number(e.target.value) })}>
          <option value={0}>Default</option>
          <option value={1}>Shared crosshair</option>
          <option value={2}>Shared tooltip</option>
        </select>
      </label>
    </div>
  );
}

/** Tags as removable chips, and an input that adds one on Enter (or the Add button). */
function TagsInput({ tags, onChange }: { tags: string[]; onChange: (tags: string[]) => void }) {
  const [text, setText] = useState('');
  const add = () => {
    const tag = text.trim();
    if (tag && !tags.includes(tag)) onChange([...tags, tag]);
    setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      add();
    } else if (e.key === 'Backspace' && text === '' && tags.length > 0) onChange(tags.slice(0, -1));
  };
  return (
    <div className="tags-input" data-testid="settings-tags">
      {tags.map((tag) => (
        <span key={tag} className="tag-chip" data-tag={tag}>
          {tag}
          <button type="button" aria-label={`Remove tag ${tag}`} data-testid="settings-tag-remove" onClick={() => onChange(tags.filter((t) => t !== tag))}>
            ×
          </button>
        </span>
      ))}
      <input value={text} placeholder="New tag (Enter to add)" aria-label="New tag" data-testid="settings-tag-input" onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} />
      <button type="button" className="button" onClick={add} disabled={!text.trim()}>
        Add
      </button>
    </div>
  );
}

/** The default time range; each end applies once it reads as a time. */
function TimeRangeFields({ from, to, onChange }: { from: string; to: string; onChange: (time: { from: string; to: string }) => void }) {
  const [draft, setDraft] = useState({ from, to });
  const errors = { from: timeError(draft.from), to: timeError(draft.to) };
  const change = (side: 'from' | 'to', value: string) => {
    const next = { ...draft, [side]: value };
    setDraft(next);
    if (!timeError(next.from) && !timeError(next.to)) onChange({ from: next.from.trim(), to: next.to.trim() });
  };
  return (
    <div className="settings-row">
      <label>
        Default time range: from
        <input data-testid="settings-time-from" value={draft.from} onChange={(e) => change('from', e.target.value)} aria-invalid={!!errors.from} />
        {errors.from && <span className="field-error">{errors.from}</span>}
      </label>
      <label>
        to
        <input data-testid="settings-time-to" value={draft.to} onChange={(e) => change('to', e.target.value)} aria-invalid={!!errors.to} />
        {errors.to && <span className="field-error">{errors.to}</span>}
      </label>
    </div>
  );
}

/** `timepicker.refresh_intervals` as a comma separated list; applied while it reads as intervals. */
function RefreshIntervalsField({ intervals, onChange }: { intervals: string[]; onChange: (intervals: string[]) => void }) {
  const [text, setText] = useState(intervals.join(', '));
  const parsed = parseRefreshIntervals(text);
  return (
    <label>
      Auto refresh intervals
      <input
        data-testid="settings-refresh-intervals"
        value={text}
        aria-invalid={'error' in parsed}
        onChange={(e) => {
          setText(e.target.value);
          const next = parseRefreshIntervals(e.target.value);
          if ('intervals' in next) onChange(next.intervals);
        }}
      />
      {'error' in parsed && <span className="field-error">{parsed.error}</span>}
    </label>
  );
}

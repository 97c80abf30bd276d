// The silence form: matchers, then either a duration from now or a start and an end, and a
// comment. Times in the form are local `datetime-local` strings; the API takes RFC 3339.
import type { Silence, SilenceInput } from '../../api/alertingNotifications';
import { fromSilenceMatcher, isBlankMatcher, matcherProblem, parseMatcher, toSilenceMatcher, type Matcher } from './matchers';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2h`, `1d 12h`, `90m`, `1w`: the parts add up. Undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^(\d+[smhdw])+$/.test(compact)) return undefined;
  let total = 0;
  for (const [, n, unit] of compact.matchAll(/(\d+)([smhdw])/g)) total += Number(n) * UNIT_MS[unit];
  return total > 0 ? total : undefined;
}

/** The largest units first, at most two: `1d 2h`, `45m`, `30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000) * 1000;
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A `datetime-local` value (local time, minutes) for an instant. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(text: string): number | undefined {
  if (!text) return undefined;
  const ms = new Date(text).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export interface SilenceForm {
  /** Set when editing an existing silence (the server updates in place or replaces it). */
  id?: string;
  matchers: Matcher[];
  mode: 'duration' | 'range';
  duration: string;
  startsAt: string;
  endsAt: string;
  comment: string;
}

export function emptySilenceForm(now: number, matchers: Matcher[] = []): SilenceForm {
  return {
    matchers: matchers.length ? matchers : [{ name: '', operator: '=', value: '' }],
    mode: 'duration',
    duration: '2h',
    startsAt: toLocalInput(now),
    endsAt: toLocalInput(now + 2 * UNIT_MS.h),
    comment: '',
  };
}

/** A form to edit (or recreate) `s`: its matchers, its times, its comment. */
export function silenceToForm(s: Silence): SilenceForm {
  const start = Date.parse(s.startsAt);
  const end = Date.parse(s.endsAt);
  return {
    id: s.id,
    matchers: s.matchers.map(fromSilenceMatcher),
    mode: 'range',
    duration: formatDuration(end - start),
    startsAt: toLocalInput(start),
    endsAt: toLocalInput(end),
    comment: s.comment,
  };
}

/**
 * Matchers from `?matcher=alertname=Disk&matcher=team=~"ops"` (repeatable; a comma-separated list
 * in braces, `{a="1",b="2"}`, works too), so a rule's page can link to a silence of it. Entries
 * that do not parse are skipped and reported.
 */
export function matchersFromQuery(params: URLSearchParams): { matchers: Matcher[]; problems: string[] } {
  const matchers: Matcher[] = [];
  const problems: string[] = [];
  for (const raw of params.getAll('matcher')) {
    const text = raw.trim().replace(/^\{/, '').replace(/\}$/, '');
    for (const part of splitOutsideQuotes(text)) {
      if (!part.trim()) continue;
      try {
        matchers.push(parseMatcher(part));
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
  }
  return { matchers, problems };
}

/** Splits on commas that are not inside double quotes. */
function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** The silence to POST, or the problems with the form. `now` decides a duration's start and end. */
export function silenceFromForm(form: SilenceForm, now: number): { silence?: SilenceInput; problems: string[] } {
  const problems: string[] = [];
  const matchers = form.matchers.filter((m) => !isBlankMatcher(m));
  if (matchers.length === 0) problems.push('A silence needs at least one matcher');
  for (const m of matchers) {
    const problem = matcherProblem(m);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0 && matchers.every((m) => new RegExp(`^(?:${safePattern(m)})$`).test(''))) {
    problems.push('These matchers match every alert; make at least one require a label value');
  }
  let start: number | undefined;
  let end: number | undefined;
  if (form.mode === 'duration') {
    const length = parseDuration(form.duration);
    if (length === undefined) problems.push(`Duration "${form.duration}" is not a duration (e.g. 2h, 1d, 30m)`);
    else {
      start = now;
      end = now + length;
    }
  } else {
    start = fromLocalInput(form.startsAt);
    end = fromLocalInput(form.endsAt);
    if (start === undefined) problems.push('Start is required');
    if (end === undefined) problems.push('End is required');
    if (start !== undefined && end !== undefined && end <= start) problems.push('End must be after start');
    if (end !== undefined && end <= now) problems.push('End is in the past');
  }
  if (!form.comment.trim()) problems.push('A comment is required: say why the alerts are silenced');
  if (problems.length || start === undefined || end === undefined) return { problems };
  const silence: SilenceInput = {
    matchers: matchers.map((m) => toSilenceMatcher({ ...m, name: m.name.trim() })),
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(end).toISOString(),
    comment: form.comment.trim(),
  };
  if (form.id) silence.id = form.id;
  return { silence, problems };
}

/**
 * A pattern that matches the empty label value exactly when the matcher does (a missing label
 * reads as ""), for the "silences everything" check: `=` and `!=` become literal patterns.
 */
function safePattern(m: Matcher): string {
  const literal = m.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  switch (m.operator) {
    case '=':
      return literal;
    case '=~':
      return m.value;
    case '!=':
      return m.value === '' ? '.+' : `(?!${literal}$).*`;
    case '!~':
      return `(?!(?:${m.value})$).*`;
  }
}

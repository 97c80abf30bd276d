import { describe, expect, it } from 'vitest';
import type { Silence } from '../../api/alertingNotifications';
import { emptySilenceForm, formatDuration, fromLocalInput, matchersFromQuery, parseDuration, silenceFromForm, silenceToForm, toLocalInput } from './silenceForm';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d 12h')).toBe(129_600_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('0s')).toBeUndefined();
    expect(parseDuration('2 hours')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(formatDuration(129_600_000)).toBe('1d 12h');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(691_200_000 + 61_000)).toBe('1w 1d');
    expect(formatDuration(500)).toBe('0s');
  });

  it('round-trips local input times', () => {
    const t = Date.parse('2026-03-01T12:34:00Z');
    expect(fromLocalInput(toLocalInput(t))).toBe(t);
    expect(fromLocalInput('')).toBeUndefined();
  });
});

describe('matchers from the query', () => {
  it('reads repeated and braced lists, reporting what does not parse', () => {
    const params = new URLSearchParams();
    params.append('matcher', 'alertname=Disk full');
    params.append('matcher', '{team=~"ops|dev",note="a, b"}');
    params.append('matcher', 'bogus');
    const { matchers, problems } = matchersFromQuery(params);
    expect(matchers).toEqual([
      { name: 'alertname', operator: '=', value: 'Disk full' },
      { name: 'team', operator: '=~', value: 'ops|dev' },
      { name: 'note', operator: '=', value: 'a, b' },
    ]);
    expect(problems).toHaveLength(1);
  });
});

describe('silence form', () => {
  it('makes a silence from now for a duration', () => {
    const form = emptySilenceForm(NOW, [{ name: 'alertname', operator: '=', value: 'Disk' }]);
    form.comment = ' maintenance ';
    form.matchers.push({ name: '', operator: '=', value: '' });
    const { silence, problems } = silenceFromForm(form, NOW);
    expect(problems).toEqual([]);
    expect(silence).toEqual({
      matchers: [{ name: 'alertname', value: 'Disk', isRegex: false, isEqual: true }],
      startsAt: '2026-03-01T12:00:00.000Z',
      endsAt: '2026-03-01T14:00:00.000Z',
      comment: 'maintenance',
    });
  });

  it('lists every problem', () => {
    const form = emptySilenceForm(NOW);
    form.duration = 'soon';
    expect(silenceFromForm(form, NOW).problems).toEqual([
      'A silence needs at least one matcher',
      'Duration "soon" is not a duration (e.g. 2h, 1d, 30m)',
      'A comment is required: say why the alerts are silenced',
    ]);
  });

  it('refuses matchers that silence everything', () => {
    const form = { ...emptySilenceForm(NOW, [{ name: 'team', operator: '=~', value: '.*' }]), comment: 'x' };
    expect(silenceFromForm(form, NOW).problems).toEqual(['These matchers match every alert; make at least one require a label value']);
    form.matchers = [{ name: 'team', operator: '!=', value: 'ops' }];
    expect(silenceFromForm(form, NOW).problems).toHaveLength(1);
    form.matchers = [{ name: 'team', operator: '!=', value: '' }];
    expect(silenceFromForm(form, NOW).problems).toEqual([]);
  });

  it('checks a start and end range', () => {
    const form = { ...emptySilenceForm(NOW, [{ name: 'a', operator: '=', value: 'b' }]), comment: 'x', mode: 'range' as const };
    form.startsAt = toLocalInput(NOW + 3_600_000);
    form.endsAt = toLocalInput(NOW + 60_000);
    expect(silenceFromForm(form, NOW).problems).toEqual(['End must be after start']);
    form.startsAt = toLocalInput(NOW - 7_200_000);
    form.endsAt = toLocalInput(NOW - 3_600_000);
    expect(silenceFromForm(form, NOW).problems).toEqual(['End is in the past']);
  });

  it('edits an existing silence, keeping its id', () => {
    const existing: Silence = {
      id: 's1',
      status: { state: 'active' },
      matchers: [{ name: 'team', value: 'ops|dev', isRegex: true, isEqual: true }],
      startsAt: '2026-03-01T11:00:00Z',
      endsAt: '2026-03-01T15:00:00Z',
      comment: 'deploy',
      createdBy: 'admin',
    };
    const form = silenceToForm(existing);
    expect(form).toMatchObject({ id: 's1', mode: 'range', duration: '4h', comment: 'deploy', matchers: [{ name: 'team', operator: '=~', value: 'ops|dev' }] });
    const { silence } = silenceFromForm(form, NOW);
    expect(silence?.id).toBe('s1');
    expect(silence?.matchers).toEqual(existing.matchers);
    expect(silence?.endsAt).toBe('2026-03-01T15:00:00.000Z');
  });
});

import { describe, expect, it } from 'vitest';
import type { ContactPoint } from '../../api/alertingNotifications';
import { contactPointFromForm, contactPointSummary, emptyForm, formFromContactPoint, formProblems, REDACTED, secretSetting } from './contactPointForm';

const webhook: ContactPoint = {
  uid: 'wh1',
  name: 'ops',
  type: 'webhook',
  version: 3,
  disableResolveMessage: true,
  settings: { url: 'http://hooks.local/a', httpMethod: 'PUT', username: 'bot', password: REDACTED, maxAlerts: '5', title: '{{ .CommonLabels.alertname }}', customField: { keep: 1 } },
};

describe('contact point form', () => {
  it('reads settings into fields and keeps unknown ones', () => {
    const form = formFromContactPoint(webhook);
    expect(form.values).toMatchObject({ url: 'http://hooks.local/a', httpMethod: 'PUT', username: 'bot', maxAlerts: '5' });
    expect(form.secrets.password).toEqual({ configured: true, reset: false, value: '' });
    expect(form.secrets.authorization_credentials).toEqual({ configured: false, reset: false, value: '' });
    expect(form.extra).toEqual({ customField: { keep: 1 } });
  });

  it('round-trips an unchanged contact point, sending the placeholder for the stored secret', () => {
    const body = contactPointFromForm(formFromContactPoint(webhook));
    expect(body).toEqual({
      uid: 'wh1',
      version: 3,
      name: 'ops',
      type: 'webhook',
      disableResolveMessage: true,
      settings: { url: 'http://hooks.local/a', httpMethod: 'PUT', username: 'bot', password: REDACTED, maxAlerts: 5, title: '{{ .CommonLabels.alertname }}', customField: { keep: 1 } },
    });
  });

  it('sends a new secret, clears a reset one and leaves an unset one out', () => {
    const form = formFromContactPoint(webhook);
    form.secrets.password = { configured: true, reset: true, value: '' };
    expect(contactPointFromForm(form).settings.password).toBe('');
    form.secrets.password = { configured: true, reset: true, value: 's3cret' };
    expect(contactPointFromForm(form).settings.password).toBe('s3cret');
    expect('authorization_credentials' in contactPointFromForm(form).settings).toBe(false);
  });

  it('never sends "" for a reset secret when creating (nothing is stored to clear)', () => {
    expect(secretSetting({ configured: true, reset: true, value: '' }, false)).toBeUndefined();
    expect(secretSetting({ configured: true, reset: true, value: '' }, true)).toBe('');
    expect(secretSetting({ configured: false, reset: false, value: '' }, true)).toBeUndefined();
  });

  it('drops settings of another type when the type changes', () => {
    const form = formFromContactPoint(webhook);
    form.type = 'email';
    form.values.addresses = 'a@example.com\n b@example.com;c@example.com';
    form.values.subject = '';
    form.flags.singleEmail = true;
    expect(contactPointFromForm(form).settings).toEqual({ addresses: 'a@example.com;b@example.com;c@example.com', singleEmail: true });
  });

  it('joins Alertmanager URLs with commas and reads them back one per line', () => {
    const form = emptyForm('prometheus-alertmanager');
    form.name = 'am';
    form.values.url = 'http://am1:9093\n\nhttp://am2:9093 ';
    form.values.basicAuthUser = 'u';
    form.secrets.basicAuthPassword = { configured: false, reset: false, value: 'p' };
    const body = contactPointFromForm(form);
    expect(body).toEqual({ name: 'am', type: 'prometheus-alertmanager', disableResolveMessage: false, settings: { url: 'http://am1:9093,http://am2:9093', basicAuthUser: 'u', basicAuthPassword: 'p' } });
    const back = formFromContactPoint({ uid: 'x', ...body, settings: { ...body.settings, basicAuthPassword: REDACTED } });
    expect(back.values.url).toBe('http://am1:9093\nhttp://am2:9093');
    expect(back.secrets.basicAuthPassword.configured).toBe(true);
    expect(contactPointSummary({ uid: 'x', ...body })).toBe('http://am1:9093, http://am2:9093');
  });

  it('lists what keeps a form from saving', () => {
    const form = emptyForm('webhook');
    expect(formProblems(form)).toEqual(['Name is required', 'URL is required']);
    form.name = 'x';
    form.values.url = 'http://x';
    form.values.maxAlerts = 'ten';
    expect(formProblems(form)).toEqual(['Max alerts per message must be a whole number']);
    expect(formProblems({ ...emptyForm('email'), name: 'e', values: { addresses: ' ;\n' } })).toEqual(['Addresses is required']);
    expect(formProblems({ ...emptyForm('slack'), name: 's' })).toEqual(['Pharos cannot send to contact points of type "slack"']);
  });
});

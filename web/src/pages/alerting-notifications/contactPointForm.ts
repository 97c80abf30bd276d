// The contact point form per integration type, and its mapping to and from Grafana's settings
// JSON. Secrets come back from the server as "[REDACTED]": the form shows them as configured and
// sends the placeholder back (keep) unless the user typed a new value or reset them ("" clears).
import type { ContactPoint, ContactPointInput, ContactPointType } from '../../api/alertingNotifications';

export const REDACTED = '[REDACTED]';

export type FieldKind = 'text' | 'textarea' | 'secret' | 'select' | 'checkbox' | 'list';

export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  placeholder?: string;
  help?: string;
  options?: readonly string[];
  /** For `list`: how the entries are joined in the settings (one per line in the form). */
  separator?: string;
}

export interface TypeSpec {
  type: ContactPointType;
  label: string;
  fields: readonly FieldSpec[];
}

export const CONTACT_POINT_TYPES: readonly TypeSpec[] = [
  {
    type: 'webhook',
    label: 'Webhook',
    fields: [
      { key: 'url', label: 'URL', kind: 'text', required: true, placeholder: 'https://example.com/alerts' },
      { key: 'httpMethod', label: 'HTTP method', kind: 'select', options: ['POST', 'PUT'] },
      { key: 'username', label: 'Basic auth user', kind: 'text' },
      { key: 'password', label: 'Basic auth password', kind: 'secret' },
      { key: 'authorization_scheme', label: 'Authorization header scheme', kind: 'text', placeholder: 'Bearer' },
      { key: 'authorization_credentials', label: 'Authorization header credentials', kind: 'secret' },
      { key: 'maxAlerts', label: 'Max alerts per message', kind: 'text', placeholder: '0 (no limit)' },
      { key: 'title', label: 'Title', kind: 'text', placeholder: 'template, e.g. {{ .CommonLabels.alertname }}' },
      { key: 'message', label: 'Message', kind: 'textarea' },
    ],
  },
  {
    type: 'prometheus-alertmanager',
    label: 'Prometheus Alertmanager',
    fields: [
      { key: 'url', label: 'URLs', kind: 'list', separator: ',', required: true, placeholder: 'http://alertmanager:9093', help: 'One Alertmanager per line; every one is sent to.' },
      { key: 'basicAuthUser', label: 'Basic auth user', kind: 'text' },
      { key: 'basicAuthPassword', label: 'Basic auth password', kind: 'secret' },
    ],
  },
  {
    type: 'email',
    label: 'Email',
    fields: [
      { key: 'addresses', label: 'Addresses', kind: 'list', separator: ';', required: true, placeholder: 'oncall@example.com', help: 'One address per line.' },
      { key: 'singleEmail', label: 'Send one e-mail to all addresses', kind: 'checkbox' },
      { key: 'subject', label: 'Subject', kind: 'text' },
      { key: 'message', label: 'Message', kind: 'textarea' },
    ],
  },
];

export function typeSpec(type: string): TypeSpec | undefined {
  return CONTACT_POINT_TYPES.find((t) => t.type === type);
}

export const typeLabel = (type: string) => typeSpec(type)?.label ?? type;

/** A secret as the form holds it: stored on the server (`configured`), replaced, or reset. */
export interface SecretValue {
  configured: boolean;
  reset: boolean;
  value: string;
}

export interface ContactPointForm {
  uid?: string;
  version?: number;
  name: string;
  type: string;
  disableResolveMessage: boolean;
  /** Text, select and list fields (lists one entry per line). */
  values: Record<string, string>;
  flags: Record<string, boolean>;
  secrets: Record<string, SecretValue>;
  /** Settings the form has no field for, kept as they came (for the same type). */
  extra: Record<string, unknown>;
  /** The type `extra` belongs to: switching type drops them. */
  extraType: string;
}

export function emptyForm(type: string = 'webhook'): ContactPointForm {
  return { name: '', type, disableResolveMessage: false, values: {}, flags: {}, secrets: {}, extra: {}, extraType: type };
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

export function formFromContactPoint(cp: ContactPoint): ContactPointForm {
  const form = emptyForm(cp.type);
  form.uid = cp.uid;
  form.version = cp.version;
  form.name = cp.name;
  form.disableResolveMessage = !!cp.disableResolveMessage;
  const spec = typeSpec(cp.type);
  const known = new Set(spec?.fields.map((f) => f.key));
  for (const [key, value] of Object.entries(cp.settings ?? {})) {
    if (!known.has(key)) form.extra[key] = value;
  }
  for (const field of spec?.fields ?? []) {
    const value = cp.settings?.[field.key];
    switch (field.kind) {
      case 'secret':
        form.secrets[field.key] = { configured: value === REDACTED || (typeof value === 'string' && value !== ''), reset: false, value: value === REDACTED ? '' : asText(value) };
        break;
      case 'checkbox':
        form.flags[field.key] = value === true || value === 'true';
        break;
      case 'list':
        form.values[field.key] = splitList(asText(value)).join('\n');
        break;
      default:
        form.values[field.key] = asText(value);
    }
  }
  return form;
}

/** The entries of a list field, whatever separated them (`,`, `;` or new lines). */
export function splitList(text: string): string[] {
  return text
    .split(/[\n;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** What to send for a secret: the new value, the placeholder (keep), "" (clear) or nothing. */
export function secretSetting(secret: SecretValue | undefined, updating: boolean): string | undefined {
  if (!secret) return undefined;
  if (secret.value !== '') return secret.value;
  if (secret.configured && !secret.reset) return REDACTED;
  if (secret.configured && secret.reset && updating) return '';
  return undefined;
}

/** The problems that keep the form from being saved (the server checks the rest). */
export function formProblems(form: ContactPointForm): string[] {
  const problems: string[] = [];
  if (!form.name.trim()) problems.push('Name is required');
  const spec = typeSpec(form.type);
  if (!spec) {
    problems.push(`Pharos cannot send to contact points of type "${form.type}"`);
    return problems;
  }
  for (const field of spec.fields) {
    if (!field.required) continue;
    const value = form.values[field.key] ?? '';
    const empty = field.kind === 'list' ? splitList(value).length === 0 : value.trim() === '';
    if (empty) problems.push(`${field.label} is required`);
  }
  const maxAlerts = form.values.maxAlerts?.trim();
  if (form.type === 'webhook' && maxAlerts && !/^\d+$/.test(maxAlerts)) problems.push('Max alerts per message must be a whole number');
  return problems;
}

/** The JSON the provisioning API takes. Empty optional fields are left out (the server's defaults). */
export function contactPointFromForm(form: ContactPointForm): ContactPointInput {
  const updating = !!form.uid;
  const settings: Record<string, unknown> = form.extraType === form.type ? { ...form.extra } : {};
  for (const field of typeSpec(form.type)?.fields ?? []) {
    switch (field.kind) {
      case 'secret': {
        const value = secretSetting(form.secrets[field.key], updating);
        if (value !== undefined) settings[field.key] = value;
        break;
      }
      case 'checkbox':
        if (form.flags[field.key]) settings[field.key] = true;
        break;
      case 'list': {
        const entries = splitList(form.values[field.key] ?? '');
        if (entries.length) settings[field.key] = entries.join(field.separator ?? ',');
        break;
      }
      default: {
        const value = (form.values[field.key] ?? '').trim();
        if (value === '') break;
        settings[field.key] = field.key === 'maxAlerts' && /^\d+$/.test(value) ? Number(value) : value;
      }
    }
  }
  const input: ContactPointInput = { name: form.name.trim(), type: form.type, settings, disableResolveMessage: form.disableResolveMessage };
  if (form.uid) input.uid = form.uid;
  if (form.version !== undefined) input.version = form.version;
  return input;
}

/** One line about where a contact point sends to, for the list. */
export function contactPointSummary(cp: ContactPoint): string {
  const s = cp.settings ?? {};
  switch (cp.type) {
    case 'webhook':
      return `${asText(s.httpMethod) || 'POST'} ${asText(s.url)}`;
    case 'prometheus-alertmanager':
      return splitList(asText(s.url)).join(', ');
    case 'email':
      return splitList(asText(s.addresses)).join(', ');
    default:
      return '';
  }
}

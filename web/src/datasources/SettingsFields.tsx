// The per-type part of the settings form. Controlled: every change goes through `onChange` with the
// whole form, so the page holds one model that `datasourceFromForm` maps to the PUT body.

import type { Datasource } from '../api/datasources';
import { addHeader, type DatasourceForm, type HttpMethod, type Secret } from './model';

interface Props {
  form: DatasourceForm;
  original: Datasource;
  onChange: (form: DatasourceForm) => void;
}

export function SettingsFields({ form, original, onChange }: Props) {
  const set = <K extends keyof DatasourceForm>(key: K, value: DatasourceForm[K]) => onChange({ ...form, [key]: value });
  if (form.type === 'prometheus') return <PrometheusFields form={form} original={original} set={set} onChange={onChange} />;
  if (form.type === 'influxdb') return <InfluxFields form={form} set={set} />;
  // TestData needs nothing beyond name and default.
  return null;
}

type Setter = <K extends keyof DatasourceForm>(key: K, value: DatasourceForm[K]) => void;

function UrlField({ form, set, placeholder }: { form: DatasourceForm; set: Setter; placeholder: string }) {
  return (
    <label>
      URL
      <input data-testid="datasource-url" type="url" value={form.url} placeholder={placeholder} onChange={(e) => set('url', e.target.value)} />
    </label>
  );
}

function MethodField({ label, value, onChange }: { label: string; value: HttpMethod; onChange: (m: HttpMethod) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value as HttpMethod)}>
        <option value="POST">POST</option>
        <option value="GET">GET</option>
      </select>
    </label>
  );
}

function PrometheusFields({ form, original, set, onChange }: { form: DatasourceForm; original: Datasource; set: Setter; onChange: (f: DatasourceForm) => void }) {
  const setHeader = (i: number, patch: Partial<DatasourceForm['headers'][number]>) =>
    set(
      'headers',
      form.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)),
    );
  return (
    <>
      <fieldset>
        <legend>HTTP</legend>
        <UrlField form={form} set={set} placeholder="http://localhost:9090" />
        <MethodField label="HTTP method" value={form.httpMethod} onChange={(m) => set('httpMethod', m)} />
        <label>
          Scrape interval
          <input value={form.timeInterval} placeholder="15s" onChange={(e) => set('timeInterval', e.target.value)} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Auth</legend>
        <label className="checkbox">
          <input type="checkbox" checked={form.basicAuth} onChange={(e) => set('basicAuth', e.target.checked)} />
          Basic auth
        </label>
        {form.basicAuth && (
          <>
            <label>
              User
              <input value={form.basicAuthUser} autoComplete="off" onChange={(e) => set('basicAuthUser', e.target.value)} />
            </label>
            <SecretField label="Password" secret={form.basicAuthPassword} onChange={(s) => set('basicAuthPassword', s)} />
          </>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={form.tlsSkipVerify} onChange={(e) => set('tlsSkipVerify', e.target.checked)} />
          Skip TLS certificate verification
        </label>
      </fieldset>
      <fieldset>
        <legend>Custom HTTP headers</legend>
        {form.headers.map((h, i) => (
          <div className="header-row" key={h.index}>
            <label>
              Header
              <input value={h.name} placeholder="X-Custom-Header" onChange={(e) => setHeader(i, { name: e.target.value })} />
            </label>
            <SecretField label="Value" secret={h.value} onChange={(value) => setHeader(i, { value })} />
            <button type="button" className="button ghost" aria-label={`Remove header ${h.name}`} onClick={() => set('headers', form.headers.filter((_, j) => j !== i))}>
              ✕
            </button>
          </div>
        ))}
        <div>
          <button type="button" className="button" onClick={() => onChange({ ...form, headers: addHeader(form, original) })}>
            Add header
          </button>
        </div>
      </fieldset>
    </>
  );
}

function InfluxFields({ form, set }: { form: DatasourceForm; set: Setter }) {
  return (
    <>
      <fieldset>
        <legend>HTTP</legend>
        <UrlField form={form} set={set} placeholder="http://localhost:8086" />
        <MethodField label="HTTP method" value={form.httpMode} onChange={(m) => set('httpMode', m)} />
      </fieldset>
      <fieldset>
        <legend>InfluxDB details</legend>
        <label>
          Database
          <input value={form.database} onChange={(e) => set('database', e.target.value)} />
        </label>
        <label>
          User
          <input value={form.user} autoComplete="off" onChange={(e) => set('user', e.target.value)} />
        </label>
        <SecretField label="Password" secret={form.password} onChange={(s) => set('password', s)} />
      </fieldset>
    </>
  );
}

/** A write-only value: "configured" with Reset when the server holds one (never shown), else an input. */
function SecretField({ label, secret, onChange }: { label: string; secret: Secret; onChange: (s: Secret) => void }) {
  if (secret.configured) {
    return (
      <div className="secret-configured">
        <span className="label">{label}</span>
        <input value="configured" disabled aria-label={`${label} (configured)`} />
        <button type="button" className="button" onClick={() => onChange({ configured: false, value: '' })}>
          Reset
        </button>
      </div>
    );
  }
  return (
    <label>
      {label}
      <input type="password" autoComplete="new-password" value={secret.value} onChange={(e) => onChange({ configured: false, value: e.target.value })} />
    </label>
  );
}

// The notification side of alerting: contact points and their test, the notification policy tree,
// and silences, on Grafana's provisioning and Alertmanager-compatible routes. Reads need Viewer,
// writes Editor; the server checks both.
import { ApiError, requestJson, withQuery } from './client';

/**
 * Writes from the UI carry `X-Disable-Provenance`: what a person saves here stays editable here,
 * while what a provisioning script saves through the plain API is marked `api` (as in Grafana).
 */
const UI_WRITE = { 'X-Disable-Provenance': 'true' };

// ---- Contact points ----

export type ContactPointType = 'webhook' | 'prometheus-alertmanager' | 'email';

/** Grafana's `EmbeddedContactPoint`; secret settings read as `"[REDACTED]"`. */
export interface ContactPoint {
  uid: string;
  name: string;
  type: ContactPointType | string;
  settings: Record<string, unknown>;
  disableResolveMessage?: boolean;
  version?: number;
  provenance?: string;
}

export type ContactPointInput = Omit<ContactPoint, 'uid' | 'provenance'> & { uid?: string };

export const listContactPoints = (signal?: AbortSignal) => requestJson<ContactPoint[]>('/api/v1/provisioning/contact-points', { signal });

export const createContactPoint = (cp: ContactPointInput) =>
  requestJson<ContactPoint>('/api/v1/provisioning/contact-points', { method: 'POST', body: cp, headers: UI_WRITE });

/** 409 when someone else changed it since `version`, or when renaming orphans a policy's receiver. */
export const updateContactPoint = (uid: string, cp: ContactPointInput) =>
  requestJson<{ message: string }>(`/api/v1/provisioning/contact-points/${encodeURIComponent(uid)}`, { method: 'PUT', body: cp, headers: UI_WRITE });

/** 409 with the server's message when a notification policy still routes to it. */
export const deleteContactPoint = (uid: string) =>
  requestJson<{ message: string }>(`/api/v1/provisioning/contact-points/${encodeURIComponent(uid)}`, { method: 'DELETE' });

export interface IntegrationTestResult {
  name: string;
  uid: string;
  status: 'ok' | 'failed' | string;
  error?: string;
}

export interface ReceiverTestAnswer {
  receivers?: { name: string; grafana_managed_receiver_configs: IntegrationTestResult[] }[];
  message?: string;
  notified_at?: string;
}

/** The outcome of testing one integration: delivered, or the receiver's (or the server's) error. */
export type TestOutcome = { ok: true } | { ok: false; error: string };

/**
 * Sends a test alert through one integration as the form has it now (unsaved edits included). A
 * secret left `"[REDACTED]"` is filled from the stored integration named by `uid`. The server
 * answers 200 when delivered, 207/400/408 with each integration's error otherwise.
 */
export async function testContactPoint(cp: ContactPointInput): Promise<TestOutcome> {
  const body = {
    receivers: [
      {
        name: cp.name,
        grafana_managed_receiver_configs: [{ uid: cp.uid ?? '', name: cp.name, type: cp.type, settings: cp.settings, disableResolveMessage: cp.disableResolveMessage ?? false }],
      },
    ],
  };
  let answer: ReceiverTestAnswer | undefined;
  try {
    answer = await requestJson<ReceiverTestAnswer>('/api/alertmanager/grafana/config/api/v1/receivers/test', { method: 'POST', body });
  } catch (e) {
    // 400 (invalid) and 408 (timed out) still carry the per-integration results.
    if (!(e instanceof ApiError) || !(e.body as ReceiverTestAnswer | undefined)?.receivers) throw e;
    answer = e.body as ReceiverTestAnswer;
  }
  return testOutcome(answer);
}

/** The first integration's result in a receiver test answer. */
export function testOutcome(answer: ReceiverTestAnswer | undefined): TestOutcome {
  const result = answer?.receivers?.[0]?.grafana_managed_receiver_configs?.[0];
  if (!result) return { ok: false, error: answer?.message ?? 'the server answered without a result' };
  if (result.status === 'ok') return { ok: true };
  return { ok: false, error: result.error || answer?.message || 'the test failed' };
}

// ---- Notification policies ----

/** `[label, operator, value]`, Grafana's `object_matchers` entry. */
export type ObjectMatcher = [string, string, string];

/** One policy of the tree (the root is the default policy). Unknown fields are kept as they came. */
export interface Policy {
  receiver?: string;
  group_by?: string[];
  object_matchers?: ObjectMatcher[];
  continue?: boolean;
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  mute_time_intervals?: string[];
  routes?: Policy[];
  [other: string]: unknown;
}

/** The root as answered: `version` (0 before any save) guards the next PUT. */
export type PolicyTree = Policy & { version?: number; provenance?: string };

export const getPolicyTree = (signal?: AbortSignal) => requestJson<PolicyTree>('/api/v1/provisioning/policies', { signal });

/** 400 with the server's reason (unknown receiver, bad matcher or duration); 409 on a stale version. */
export const savePolicyTree = (tree: PolicyTree) =>
  requestJson<{ message: string }>('/api/v1/provisioning/policies', { method: 'PUT', body: tree, headers: UI_WRITE });

/** Back to the default tree, which the answer carries. */
export const resetPolicyTree = () => requestJson<PolicyTree>('/api/v1/provisioning/policies', { method: 'DELETE' });

// ---- Silences ----

/** Alertmanager's matcher: `isEqual: false` negates, `isRegex` makes the value a regular expression. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export type SilenceState = 'active' | 'pending' | 'expired';

export interface Silence {
  id: string;
  status: { state: SilenceState | string };
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt?: string;
  comment: string;
  createdBy: string;
}

export interface SilenceInput {
  id?: string;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy?: string;
}

/** `filters` are matcher strings (`alertname=Disk`), each one a silence must carry. */
export const listSilences = (filters: string[] = [], signal?: AbortSignal) =>
  requestJson<Silence[]>(withQuery('/api/alertmanager/grafana/api/v2/silences', { filter: filters }), { signal });

export const getSilence = (id: string, signal?: AbortSignal) =>
  requestJson<Silence>(`/api/alertmanager/grafana/api/v2/silence/${encodeURIComponent(id)}`, { signal });

export const saveSilence = (silence: SilenceInput) =>
  requestJson<{ silenceID: string }>('/api/alertmanager/grafana/api/v2/silences', { method: 'POST', body: silence });

/** Expires the silence now (Alertmanager's DELETE). */
export const expireSilence = (id: string) =>
  requestJson<{ message: string }>(`/api/alertmanager/grafana/api/v2/silence/${encodeURIComponent(id)}`, { method: 'DELETE' });

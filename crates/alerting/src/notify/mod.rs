//! Notifiers: the contact point integrations that deliver a group's notification.
//!
//! A [`Notification`] is one flush of an aggregation group ([`crate::group::Flush`]) with the
//! notification log key it was recorded under. Every payload carries a stable idempotency key
//! derived from that log key ([`Notification::idempotency_key`]), so a receiver can drop the
//! copy a new lease holder resends after a crash between sending and marking delivered.
//!
//! [`Notifier::notify`] bounds a send by a timeout (a receiver that hangs is cut off) and answers
//! with a [`NotifyError`] that says whether a retry can help: connection errors, timeouts, 5xx,
//! 408 and 429 are retryable; other 4xx answers and bad settings are permanent.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::group::{Alert, Flush, GroupState};
use crate::labels::Labels;
use crate::rfc3339::format_ms;
use crate::template::{Context, Template, Value};

pub mod alertmanager;
pub mod email;
pub mod webhook;

pub use alertmanager::{AlertmanagerNotifier, AlertmanagerSettings};
pub use email::{EmailNotifier, EmailSettings, SmtpConfig, SmtpServer, SmtpTls};
pub use webhook::{WebhookNotifier, WebhookSettings};

/// A boxed, sendable future: what [`Notifier`]'s methods return, so notifiers can be trait
/// objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a notification was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    /// Whether sending again later can succeed.
    pub retryable: bool,
    pub message: String,
}

impl NotifyError {
    pub fn retryable(message: impl Into<String>) -> NotifyError {
        NotifyError {
            retryable: true,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> NotifyError {
        NotifyError {
            retryable: false,
            message: message.into(),
        }
    }

    /// An HTTP answer that is not a success.
    pub fn from_status(status: reqwest::StatusCode, body: &str) -> NotifyError {
        let body: String = body.chars().take(512).collect();
        let message = format!("receiver answered {status}: {body}");
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            NotifyError::retryable(message)
        } else {
            NotifyError::permanent(message)
        }
    }

    /// A request that did not get an answer.
    pub fn from_reqwest(e: &reqwest::Error) -> NotifyError {
        if e.is_builder() {
            NotifyError::permanent(format!("bad request: {e}"))
        } else {
            NotifyError::retryable(format!("sending failed: {e}"))
        }
    }
}

/// A contact point integration.
pub trait Notifier: Send + Sync {
    /// The integration's type as Grafana names it (`webhook`, `prometheus-alertmanager`,
    /// `email`).
    fn kind(&self) -> &'static str;

    /// Sends one notification, without a time limit of its own.
    fn send<'a>(&'a self, notification: &'a Notification)
        -> BoxFuture<'a, Result<(), NotifyError>>;

    /// Sends, cut off after `timeout` (a retryable error).
    fn notify<'a>(
        &'a self,
        notification: &'a Notification,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.send(notification)).await {
                Ok(result) => result,
                Err(_) => Err(NotifyError::retryable(format!(
                    "{}: no answer within {timeout:?}",
                    self.kind()
                ))),
            }
        })
    }
}

/// Builds the notifier of a contact point integration from its Grafana `type` and `settings`
/// JSON; errors are for a 400 at save time. E-mail needs the server's SMTP configuration.
pub fn from_settings(
    kind: &str,
    settings: &serde_json::Value,
    smtp: Option<&SmtpConfig>,
) -> Result<Box<dyn Notifier>, String> {
    let server = smtp.map(|config| SmtpServer {
        config: config.clone(),
        skip_verify: false,
    });
    notifier(kind, settings, server.as_ref())
}

/// As [`from_settings`], with the server's SMTP configuration whole (its certificate check).
pub fn notifier(
    kind: &str,
    settings: &serde_json::Value,
    smtp: Option<&SmtpServer>,
) -> Result<Box<dyn Notifier>, String> {
    let parse_err = |e: serde_json::Error| format!("{kind} settings: {e}");
    Ok(match kind {
        "webhook" => Box::new(WebhookNotifier::new(
            serde_json::from_value(settings.clone()).map_err(parse_err)?,
        )?),
        "prometheus-alertmanager" => Box::new(AlertmanagerNotifier::new(
            serde_json::from_value(settings.clone()).map_err(parse_err)?,
        )?),
        "email" => {
            let smtp = smtp.ok_or("e-mail needs SMTP to be configured (the [smtp] section)")?;
            Box::new(EmailNotifier::for_server(
                serde_json::from_value(settings.clone()).map_err(parse_err)?,
                smtp.clone(),
            )?)
        }
        other => return Err(format!("unsupported contact point type {other:?}")),
    })
}

/// One notification of one group to one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The notification log key it was recorded under.
    pub log_key: String,
    pub receiver: String,
    pub group_key: String,
    pub group_labels: Labels,
    /// Firing and resolved alerts, in a stable order.
    pub alerts: Vec<Alert>,
    pub org_id: i64,
    /// Pharos' public URL (Grafana's `externalURL`), with no trailing slash needed.
    pub external_url: String,
}

impl Notification {
    /// The notification of `flush` of `group`.
    pub fn from_flush(
        group: &GroupState,
        flush: &Flush,
        org_id: i64,
        external_url: &str,
    ) -> Notification {
        Notification {
            log_key: flush.key.clone(),
            receiver: group.receiver.clone(),
            group_key: group.group_key.clone(),
            group_labels: group.group_labels.clone(),
            alerts: flush.alerts.clone(),
            org_id,
            external_url: external_url.to_string(),
        }
    }

    /// 32 hex digits of SHA-256 over the log key: the same for every resend of this
    /// notification, different for every other one.
    pub fn idempotency_key(&self) -> String {
        idempotency_key(&self.log_key)
    }

    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| !a.is_resolved())
    }

    pub fn resolved(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.is_resolved())
    }

    /// `firing` while any alert fires, else `resolved`.
    pub fn status(&self) -> &'static str {
        if self.firing().next().is_some() {
            "firing"
        } else {
            "resolved"
        }
    }

    /// The labels every alert has with the same value.
    pub fn common_labels(&self) -> Labels {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// Grafana's link to a new silence for an alert's labels.
    pub fn silence_url(&self, alert: &Alert) -> String {
        let matchers: Vec<String> = alert
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{}/alerting/silence/new?alertmanager=grafana&matchers={}",
            self.external_url.trim_end_matches('/'),
            percent_encode(&matchers.join(","))
        )
    }

    /// Grafana's default title: `[FIRING:2] DiskFull ops`.
    pub fn default_title(&self) -> String {
        let values: Vec<&str> = self.group_labels.values().map(String::as_str).collect();
        let status = match self.status() {
            "firing" => format!("FIRING:{}", self.firing().count()),
            _ => "RESOLVED".to_string(),
        };
        format!("[{status}] {}", values.join(" "))
            .trim_end()
            .to_string()
    }

    /// A plain-text body listing the alerts, their labels and annotations.
    pub fn default_message(&self) -> String {
        let mut out = String::new();
        for (title, alerts) in [
            ("Firing", self.firing().collect::<Vec<_>>()),
            ("Resolved", self.resolved().collect::<Vec<_>>()),
        ] {
            if alerts.is_empty() {
                continue;
            }
            out.push_str(&format!("**{title}**\n\n"));
            for a in alerts {
                out.push_str("Value: ");
                out.push_str(if a.value_string.is_empty() {
                    "[no value]"
                } else {
                    &a.value_string
                });
                out.push_str("\nLabels:\n");
                for (k, v) in &a.labels {
                    out.push_str(&format!(" - {k} = {v}\n"));
                }
                out.push_str("Annotations:\n");
                for (k, v) in &a.annotations {
                    out.push_str(&format!(" - {k} = {v}\n"));
                }
                if !a.generator_url.is_empty() {
                    out.push_str(&format!("Source: {}\n", a.generator_url));
                }
                out.push_str(&format!("Silence: {}\n\n", self.silence_url(a)));
            }
        }
        out
    }

    /// What notification templates see: `.Receiver`, `.Status`, `.Alerts` (each with
    /// `.Status`, `.Labels`, `.Annotations`, `.StartsAt`, `.EndsAt`, `.GeneratorURL`,
    /// `.Fingerprint`, `.SilenceURL`, `.ValueString`), `.FiringAlerts`, `.ResolvedAlerts`,
    /// `.GroupLabels`, `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`, `.GroupKey`.
    /// (Grafana's `.Alerts.Firing` is `.FiringAlerts` here: a list has no fields.)
    pub fn template_context(&self) -> Context {
        let alert_value = |a: &Alert| {
            Value::Map(BTreeMap::from([
                (
                    "Status".to_string(),
                    Value::Str(
                        if a.is_resolved() {
                            "resolved"
                        } else {
                            "firing"
                        }
                        .into(),
                    ),
                ),
                ("Labels".to_string(), Value::Labels(a.labels.clone())),
                (
                    "Annotations".to_string(),
                    Value::Labels(a.annotations.clone()),
                ),
                ("StartsAt".to_string(), Value::Str(format_ms(a.starts_at))),
                (
                    "EndsAt".to_string(),
                    Value::Str(
                        a.ends_at
                            .map_or_else(|| crate::rfc3339::GO_ZERO_TIME.to_string(), format_ms),
                    ),
                ),
                (
                    "GeneratorURL".to_string(),
                    Value::Str(a.generator_url.clone()),
                ),
                (
                    "Fingerprint".to_string(),
                    Value::Str(a.fingerprint().to_string()),
                ),
                ("SilenceURL".to_string(), Value::Str(self.silence_url(a))),
                (
                    "ValueString".to_string(),
                    Value::Str(a.value_string.clone()),
                ),
            ]))
        };
        let list = |alerts: Vec<&Alert>| Value::List(alerts.into_iter().map(alert_value).collect());
        let root = BTreeMap::from([
            ("Receiver".to_string(), Value::Str(self.receiver.clone())),
            ("Status".to_string(), Value::Str(self.status().into())),
            ("Alerts".to_string(), list(self.alerts.iter().collect())),
            ("FiringAlerts".to_string(), list(self.firing().collect())),
            (
                "ResolvedAlerts".to_string(),
                list(self.resolved().collect()),
            ),
            (
                "GroupLabels".to_string(),
                Value::Labels(self.group_labels.clone()),
            ),
            (
                "CommonLabels".to_string(),
                Value::Labels(self.common_labels()),
            ),
            (
                "CommonAnnotations".to_string(),
                Value::Labels(self.common_annotations()),
            ),
            (
                "ExternalURL".to_string(),
                Value::Str(self.external_url.clone()),
            ),
            ("GroupKey".to_string(), Value::Str(self.group_key.clone())),
        ]);
        Context::with_root(Value::Map(root))
    }
}

/// How long to wait before attempt `attempt` (1 = the first retry) of a notification that
/// failed retryably: 1 s doubling up to 5 min, with up to a quarter off taken from the log key
/// (deterministic, so replicas agree, yet receivers are not hit by every group at once).
pub fn retry_delay(log_key: &str, attempt: u32) -> Duration {
    const FIRST_MS: u64 = 1_000;
    const MAX_MS: u64 = 300_000;
    let base = FIRST_MS
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
        .min(MAX_MS);
    let digest = Sha256::digest(log_key.as_bytes());
    let spread = u64::from(u16::from_be_bytes([digest[0], digest[1]]));
    Duration::from_millis(base - base / 4 * spread / u64::from(u16::MAX))
}

/// The idempotency key of a notification log key.
pub fn idempotency_key(log_key: &str) -> String {
    let digest = Sha256::digest(log_key.as_bytes());
    hex::encode(&digest[..16])
}

fn common<'a>(mut sets: impl Iterator<Item = &'a BTreeMap<String, String>>) -> Labels {
    let Some(first) = sets.next() else {
        return Labels::new();
    };
    let mut out = first.clone();
    for s in sets {
        out.retain(|k, v| s.get(k) == Some(v));
    }
    out
}

/// A template from contact point settings: `None` for an empty one; an error for a 400.
pub(crate) fn parse_template(field: &str, text: &str) -> Result<Option<Template>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Template::parse(text)
        .map(Some)
        .map_err(|e| format!("{field}: {e}"))
}

/// Renders an optional template, or the default.
pub(crate) fn render_or(
    template: &Option<Template>,
    context: &Context,
    default: impl FnOnce() -> String,
) -> String {
    match template {
        Some(t) => crate::template::expand(t, context),
        None => default(),
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A number or a string holding one (Grafana's settings write `maxAlerts` either way).
pub(crate) mod lenient_usize {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(usize),
            S(String),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(n),
            Either::S(s) if s.trim().is_empty() => Ok(0),
            Either::S(s) => s
                .trim()
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a number"))),
        }
    }
}

#[cfg(test)]
pub(crate) fn sample_notification() -> Notification {
    use crate::labels::labels;
    let alert = |name: &str, instance: &str, ends: Option<i64>| Alert {
        labels: labels(&[("alertname", name), ("instance", instance), ("team", "ops")]),
        annotations: BTreeMap::from([("summary".to_string(), format!("{instance} is down"))]),
        starts_at: 1_767_225_600_000,
        ends_at: ends,
        generator_url: "http://pharos/alerting/grafana/r1/view".into(),
        values: BTreeMap::from([("B".to_string(), Some(42.5)), ("C".to_string(), Some(1.0))]),
        value_string: "[ var='B' labels={} value=42.5 ]".into(),
    };
    Notification {
        log_key: "ops-hook/{}:{alertname=\"Down\"}/1767225630000".into(),
        receiver: "ops-hook".into(),
        group_key: "{}:{alertname=\"Down\"}".into(),
        group_labels: labels(&[("alertname", "Down")]),
        alerts: vec![
            alert("Down", "a:9100", None),
            alert("Down", "b:9100", Some(1_767_225_660_000)),
        ],
        org_id: 1,
        external_url: "http://pharos:3000/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_keys() {
        let n = sample_notification();
        assert_eq!(n.status(), "firing");
        assert_eq!(n.default_title(), "[FIRING:1] Down");
        assert_eq!(n.common_labels().len(), 2, "alertname and team");
        assert!(n.common_annotations().is_empty());
        let key = n.idempotency_key();
        assert_eq!(key.len(), 32);
        assert_eq!(key, idempotency_key(&n.log_key), "stable");
        assert_ne!(key, idempotency_key("other"));
        assert_eq!(
            n.silence_url(&n.alerts[0]),
            "http://pharos:3000/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DDown%2Cinstance%3Da%3A9100%2Cteam%3Dops"
        );
        let body = n.default_message();
        assert!(body.contains("**Firing**") && body.contains("**Resolved**"));
        assert!(body.contains(" - instance = b:9100"));
    }

    #[test]
    fn templates_see_the_notification() {
        let n = sample_notification();
        let t = Template::parse(
            "{{ .Status | toUpper }} {{ len .FiringAlerts }}/{{ len .Alerts }} {{ .CommonLabels.team }}{{ range .Alerts }} {{ .Labels.instance }}={{ .Status }}{{ end }}",
        )
        .unwrap();
        assert_eq!(
            t.render_in(&n.template_context()).unwrap(),
            "FIRING 1/2 ops a:9100=firing b:9100=resolved"
        );
    }

    #[test]
    fn retry_delays_grow_and_are_bounded() {
        let d: Vec<Duration> = (1..=12).map(|a| retry_delay("k", a)).collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
        assert!(d[0] > Duration::from_millis(740) && d[0] <= Duration::from_secs(1));
        assert!(d[11] <= Duration::from_secs(300) && d[11] >= Duration::from_secs(225));
        assert_eq!(retry_delay("k", 3), retry_delay("k", 3));
        assert_eq!(retry_delay("k", u32::MAX), d[11]);
    }

    #[test]
    fn http_errors_are_classified() {
        use reqwest::StatusCode;
        assert!(NotifyError::from_status(StatusCode::BAD_GATEWAY, "").retryable);
        assert!(NotifyError::from_status(StatusCode::TOO_MANY_REQUESTS, "").retryable);
        assert!(!NotifyError::from_status(StatusCode::UNAUTHORIZED, "").retryable);
        assert!(!NotifyError::from_status(StatusCode::NOT_FOUND, "").retryable);
        assert!(from_settings("slack", &serde_json::json!({}), None).is_err());
        assert!(from_settings("email", &serde_json::json!({"addresses": "a@b.c"}), None).is_err());
    }
}

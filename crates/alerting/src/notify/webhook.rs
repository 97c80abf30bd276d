//! Grafana's webhook integration: a JSON payload in Grafana's shape (Alertmanager's webhook
//! payload plus `orgId`, `title`, `state`, `message`, per-alert `values`, `silenceURL`, ...),
//! POSTed (or PUT) to a URL, with optional basic auth or an `Authorization` header, and at most
//! `maxAlerts` alerts (the rest counted in `truncatedAlerts`). Pharos adds the idempotency key as
//! the `Idempotency-Key` header and the `idempotencyKey` field.

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{lenient_usize, parse_template, render_or, BoxFuture, Notification, NotifyError};
use crate::rfc3339::{format_ms, GO_ZERO_TIME};
use crate::template::Template;

/// The integration's `settings`, as Grafana's contact point API has them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookSettings {
    pub url: String,
    /// `POST` (default) or `PUT`.
    #[serde(default, rename = "httpMethod")]
    pub http_method: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The scheme of the `Authorization` header (default `Bearer`).
    #[serde(default)]
    pub authorization_scheme: Option<String>,
    #[serde(default)]
    pub authorization_credentials: Option<String>,
    /// 0 = no limit.
    #[serde(
        default,
        rename = "maxAlerts",
        deserialize_with = "lenient_usize::deserialize"
    )]
    pub max_alerts: usize,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

pub struct WebhookNotifier {
    url: reqwest::Url,
    method: reqwest::Method,
    settings: WebhookSettings,
    title: Option<Template>,
    message: Option<Template>,
    client: reqwest::Client,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl WebhookNotifier {
    /// Validates the settings: an http(s) URL, POST or PUT, not both kinds of auth, templates
    /// that parse.
    pub fn new(settings: WebhookSettings) -> Result<WebhookNotifier, String> {
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|e| format!("webhook url {:?}: {e}", settings.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("webhook url {:?} is not http(s)", settings.url));
        }
        let method = match non_empty(&settings.http_method)
            .unwrap_or("POST")
            .to_ascii_uppercase()
            .as_str()
        {
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            other => return Err(format!("webhook httpMethod {other:?}: use POST or PUT")),
        };
        let basic =
            non_empty(&settings.username).is_some() || non_empty(&settings.password).is_some();
        if basic && non_empty(&settings.authorization_credentials).is_some() {
            return Err(
                "webhook: set either basic auth (username/password) or authorization_credentials, not both"
                    .into(),
            );
        }
        let title = parse_template("title", settings.title.as_deref().unwrap_or(""))?;
        let message = parse_template("message", settings.message.as_deref().unwrap_or(""))?;
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(WebhookNotifier {
            url,
            method,
            settings,
            title,
            message,
            client,
        })
    }

    /// The JSON body for `n`.
    pub fn payload(&self, n: &Notification) -> Json {
        let context = n.template_context();
        let max = self.settings.max_alerts;
        let shown = if max > 0 && n.alerts.len() > max {
            &n.alerts[..max]
        } else {
            &n.alerts[..]
        };
        let alerts: Vec<Json> = shown
            .iter()
            .map(|a| {
                json!({
                    "status": if a.is_resolved() { "resolved" } else { "firing" },
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "startsAt": format_ms(a.starts_at),
                    "endsAt": a.ends_at.map_or_else(|| GO_ZERO_TIME.to_string(), format_ms),
                    "generatorURL": a.generator_url,
                    "fingerprint": a.fingerprint().to_string(),
                    "silenceURL": n.silence_url(a),
                    "dashboardURL": "",
                    "panelURL": "",
                    "values": a.values,
                    "valueString": a.value_string,
                })
            })
            .collect();
        let status = n.status();
        json!({
            "receiver": n.receiver,
            "status": status,
            "orgId": n.org_id,
            "alerts": alerts,
            "groupLabels": n.group_labels,
            "commonLabels": n.common_labels(),
            "commonAnnotations": n.common_annotations(),
            "externalURL": n.external_url,
            "version": "1",
            "groupKey": n.group_key,
            "truncatedAlerts": n.alerts.len() - shown.len(),
            "title": render_or(&self.title, &context, || n.default_title()),
            "state": if status == "firing" { "alerting" } else { "ok" },
            "message": render_or(&self.message, &context, || n.default_message()),
            "idempotencyKey": n.idempotency_key(),
        })
    }
}

impl super::Notifier for WebhookNotifier {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let mut request = self
                .client
                .request(self.method.clone(), self.url.clone())
                .header("Idempotency-Key", n.idempotency_key())
                .json(&self.payload(n));
            let s = &self.settings;
            if let Some(credentials) = non_empty(&s.authorization_credentials) {
                let scheme = non_empty(&s.authorization_scheme).unwrap_or("Bearer");
                request = request.header("Authorization", format!("{scheme} {credentials}"));
            } else if non_empty(&s.username).is_some() || non_empty(&s.password).is_some() {
                request = request.basic_auth(
                    s.username.clone().unwrap_or_default(),
                    s.password.clone().filter(|p| !p.is_empty()),
                );
            }
            let response = request
                .send()
                .await
                .map_err(|e| NotifyError::from_reqwest(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let body = response.text().await.unwrap_or_default();
            Err(NotifyError::from_status(status, &body))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::sample_notification;

    fn notifier(v: Json) -> Result<WebhookNotifier, String> {
        WebhookNotifier::new(serde_json::from_value(v).map_err(|e| e.to_string())?)
    }

    #[test]
    fn payload_has_grafanas_shape() {
        let w = notifier(json!({"url": "http://x/hook", "maxAlerts": "1"})).unwrap();
        let n = sample_notification();
        let p = w.payload(&n);
        assert_eq!(p["version"], "1");
        assert_eq!(p["status"], "firing");
        assert_eq!(p["state"], "alerting");
        assert_eq!(p["orgId"], 1);
        assert_eq!(p["truncatedAlerts"], 1);
        assert_eq!(p["alerts"].as_array().unwrap().len(), 1);
        assert_eq!(p["alerts"][0]["endsAt"], GO_ZERO_TIME);
        assert_eq!(p["alerts"][0]["startsAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(p["alerts"][0]["values"]["B"], 42.5);
        assert_eq!(p["groupLabels"], json!({"alertname": "Down"}));
        assert_eq!(
            p["commonLabels"],
            json!({"alertname": "Down", "team": "ops"})
        );
        assert_eq!(p["title"], "[FIRING:1] Down");
        assert_eq!(p["idempotencyKey"], n.idempotency_key());
    }

    #[test]
    fn custom_title_and_message_are_templates() {
        let w = notifier(json!({"url": "http://x/hook",
            "title": "{{ .CommonLabels.team }}: {{ len .FiringAlerts }} down",
            "message": "{{ range .Alerts }}{{ .Annotations.summary }};{{ end }}"}))
        .unwrap();
        let p = w.payload(&sample_notification());
        assert_eq!(p["title"], "ops: 1 down");
        assert_eq!(p["message"], "a:9100 is down;b:9100 is down;");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(notifier(json!({"url": "not a url"})).is_err());
        assert!(notifier(json!({"url": "ftp://x/"})).is_err());
        assert!(notifier(json!({"url": "http://x/", "httpMethod": "DELETE"})).is_err());
        assert!(notifier(json!({"url": "http://x/", "username": "u",
            "authorization_credentials": "t"}))
        .is_err());
        assert!(notifier(json!({"url": "http://x/", "title": "{{ .Status"})).is_err());
        assert!(notifier(json!({"url": "http://x/", "maxAlerts": "many"})).is_err());
        assert!(notifier(json!({"url": "http://x/", "httpMethod": "put"})).is_ok());
    }
}

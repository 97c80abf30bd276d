//! Grafana's `prometheus-alertmanager` integration: the alerts POSTed to Alertmanager's v2 API
//! (`POST <url>/api/v2/alerts`, `[{labels, annotations, startsAt, endsAt, generatorURL}]`), with
//! optional basic auth, to each of several URLs (a comma-separated `url`, as in Grafana).
//!
//! As Grafana does, a notification counts as delivered when at least one Alertmanager took it:
//! Alertmanagers of one cluster share their alerts, and one dead peer must not make the others
//! receive endless retries. Alertmanager merges alerts by their labels, so a resend is harmless;
//! the idempotency key travels as the `Idempotency-Key` header (the body is Alertmanager's
//! fixed schema). A firing alert has no `endsAt`, so Alertmanager applies its `resolve_timeout`.

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{BoxFuture, Notification, NotifyError};
use crate::rfc3339::format_ms;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlertmanagerSettings {
    /// One URL or several separated by commas.
    pub url: String,
    #[serde(default, rename = "basicAuthUser")]
    pub basic_auth_user: Option<String>,
    #[serde(default, rename = "basicAuthPassword")]
    pub basic_auth_password: Option<String>,
}

pub struct AlertmanagerNotifier {
    urls: Vec<reqwest::Url>,
    settings: AlertmanagerSettings,
    client: reqwest::Client,
}

impl AlertmanagerNotifier {
    pub fn new(settings: AlertmanagerSettings) -> Result<AlertmanagerNotifier, String> {
        let mut urls = Vec::new();
        for raw in settings
            .url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            let mut url =
                reqwest::Url::parse(raw).map_err(|e| format!("alertmanager url {raw:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("alertmanager url {raw:?} is not http(s)"));
            }
            let path = format!("{}/api/v2/alerts", url.path().trim_end_matches('/'));
            url.set_path(&path);
            urls.push(url);
        }
        if urls.is_empty() {
            return Err("alertmanager: url is required".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("alertmanager client: {e}"))?;
        Ok(AlertmanagerNotifier {
            urls,
            settings,
            client,
        })
    }

    /// The `/api/v2/alerts` URLs it posts to.
    pub fn urls(&self) -> &[reqwest::Url] {
        &self.urls
    }

    pub fn payload(n: &Notification) -> Json {
        Json::Array(
            n.alerts
                .iter()
                .map(|a| {
                    let mut alert = json!({
                        "labels": a.labels,
                        "annotations": a.annotations,
                        "startsAt": format_ms(a.starts_at),
                        "generatorURL": a.generator_url,
                    });
                    if let Some(ends) = a.ends_at {
                        alert["endsAt"] = json!(format_ms(ends));
                    }
                    alert
                })
                .collect(),
        )
    }

    async fn post(&self, url: &reqwest::Url, body: &Json, key: &str) -> Result<(), NotifyError> {
        let mut request = self
            .client
            .post(url.clone())
            .header("Idempotency-Key", key)
            .json(body);
        if let Some(user) = self
            .settings
            .basic_auth_user
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            request = request.basic_auth(user, self.settings.basic_auth_password.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| NotifyError::from_reqwest(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(NotifyError::from_status(status, &text))
    }
}

impl super::Notifier for AlertmanagerNotifier {
    fn kind(&self) -> &'static str {
        "prometheus-alertmanager"
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let body = Self::payload(n);
            let key = n.idempotency_key();
            let mut errors = Vec::new();
            let mut delivered = false;
            for url in &self.urls {
                match self.post(url, &body, &key).await {
                    Ok(()) => delivered = true,
                    Err(e) => errors.push((url, e)),
                }
            }
            if delivered {
                return Ok(());
            }
            let retryable = errors.iter().any(|(_, e)| e.retryable);
            let message = errors
                .iter()
                .map(|(u, e)| format!("{u}: {e}"))
                .collect::<Vec<_>>()
                .join("; ");
            Err(NotifyError { retryable, message })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::sample_notification;

    #[test]
    fn urls_and_payload() {
        let n = AlertmanagerNotifier::new(AlertmanagerSettings {
            url: "http://am1:9093, http://am2:9093/prefix/".into(),
            ..Default::default()
        })
        .unwrap();
        let urls: Vec<String> = n.urls().iter().map(|u| u.to_string()).collect();
        assert_eq!(
            urls,
            [
                "http://am1:9093/api/v2/alerts",
                "http://am2:9093/prefix/api/v2/alerts"
            ]
        );
        let p = AlertmanagerNotifier::payload(&sample_notification());
        assert_eq!(p[0]["labels"]["instance"], "a:9100");
        assert!(p[0].get("endsAt").is_none(), "firing");
        assert_eq!(p[1]["endsAt"], "2026-01-01T00:01:00.000Z");
        assert_eq!(
            p[0]["generatorURL"],
            "http://pharos/alerting/grafana/r1/view"
        );
        assert!(AlertmanagerNotifier::new(AlertmanagerSettings::default()).is_err());
        assert!(AlertmanagerNotifier::new(AlertmanagerSettings {
            url: "am:9093".into(),
            ..Default::default()
        })
        .is_err());
    }
}

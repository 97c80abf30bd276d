//! `/api/v1/provisioning/contact-points` (Grafana's provisioning API for contact points) and the
//! Grafana Alertmanager's receiver test, `POST /api/alertmanager/grafana/config/api/v1/receivers/
//! test`.
//!
//! A contact point here is one integration (Grafana's `EmbeddedContactPoint`); integrations that
//! share a `name` form one receiver, the name policies route to. Supported types are `webhook`,
//! `prometheus-alertmanager` and `email`; settings are checked by building the notifier
//! (`pharos_alerting::notify::notifier`), so what saves is what the scheduler can send with.
//!
//! Secret settings (webhook `password` and `authorization_credentials`, Alertmanager
//! `basicAuthPassword`, any field whose name contains `password`) arrive in `settings` as Grafana's
//! API has them, are moved out and encrypted with the server's secrets module (field name as the
//! associated data, as datasources' secrets), and are answered as `"[REDACTED]"`. On PUT a secret
//! that is left out or sent as `"[REDACTED]"` keeps its stored value (when the type is unchanged);
//! one sent as `""` is cleared.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use pharos_alerting::notify::{notifier, Notification, SmtpConfig, SmtpServer, SmtpTls};
use pharos_alerting::Alert;
use pharos_store::{ContactPoint, ContactPointInput, StoreError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{now_ms, provenance};
use crate::alerting::with_stored_secrets;
use crate::api::rfc3339;
use crate::auth::{Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::secrets::{SecretError, Secrets};
use crate::state::AppState;

/// What secret settings read as (Grafana's `RedactedValue`); sent back, it means "keep".
pub const SECURE_PLACEHOLDER: &str = "[REDACTED]";

/// The integration types Pharos can send to.
const SUPPORTED_TYPES: [&str; 3] = ["webhook", "prometheus-alertmanager", "email"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/provisioning/contact-points",
            get(list).post(create),
        )
        .route(
            "/api/v1/provisioning/contact-points/{uid}",
            put(update).delete(delete),
        )
        .route(
            "/api/alertmanager/grafana/config/api/v1/receivers/test",
            post(test_receivers),
        )
}

/// Whether `field` of an integration of type `kind` is a secret.
fn is_secure(kind: &str, field: &str) -> bool {
    let by_type = match kind {
        "webhook" => ["password", "authorization_credentials"].contains(&field),
        "prometheus-alertmanager" => field == "basicAuthPassword",
        _ => false,
    };
    by_type || field.to_ascii_lowercase().contains("password")
}

/// The plain settings and the secret ones (plaintext) of a settings object.
fn split(
    kind: &str,
    settings: &Value,
) -> ApiResult<(Map<String, Value>, BTreeMap<String, String>)> {
    let object = match settings {
        Value::Object(o) => o.clone(),
        Value::Null => Map::new(),
        _ => return Err(ApiError::bad_request("settings must be a JSON object")),
    };
    let mut plain = Map::new();
    let mut secure = BTreeMap::new();
    for (field, value) in object {
        if !is_secure(kind, &field) {
            plain.insert(field, value);
            continue;
        }
        match value {
            Value::String(s) => {
                secure.insert(field, s);
            }
            Value::Null => {}
            _ => {
                return Err(ApiError::bad_request(format!(
                    "settings.{field} must be a string"
                )))
            }
        }
    }
    Ok((plain, secure))
}

/// Checks settings by building the notifier. E-mail is checked against the configured SMTP
/// server, or a stand-in when `[smtp]` is off (addresses and templates are what a save can get
/// wrong; sending then fails until SMTP is configured).
fn validate(state: &AppState, kind: &str, settings: &Value) -> ApiResult<()> {
    if !SUPPORTED_TYPES.contains(&kind) {
        return Err(ApiError::bad_request(format!(
            "unsupported contact point type {kind:?}; Pharos supports {}",
            SUPPORTED_TYPES.join(", ")
        )));
    }
    let smtp = state.config.smtp.clone().unwrap_or_else(|| SmtpServer {
        config: SmtpConfig {
            host: "localhost".into(),
            port: 25,
            username: None,
            password: None,
            from_address: "pharos@localhost".into(),
            from_name: None,
            tls: SmtpTls::None,
            timeout: Duration::from_secs(30),
        },
        skip_verify: false,
    });
    notifier(kind, settings, Some(&smtp))
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("invalid contact point settings: {e}")))
}

/// Grafana's `EmbeddedContactPoint`, secrets redacted, plus `version` (Pharos').
fn item_json(cp: &ContactPoint) -> Value {
    let mut settings = match serde_json::from_str::<Value>(&cp.settings) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    for field in cp.secure_settings.keys() {
        settings.insert(field.clone(), Value::String(SECURE_PLACEHOLDER.into()));
    }
    let mut item = json!({
        "uid": cp.uid,
        "name": cp.name,
        "type": cp.kind,
        "settings": settings,
        "disableResolveMessage": cp.disable_resolve_message,
        "version": cp.version,
    });
    if !cp.provenance.is_empty() {
        item["provenance"] = json!(cp.provenance);
    }
    item
}

fn not_found() -> ApiError {
    ApiError::not_found("Contact point not found")
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => not_found(),
        StoreError::AlreadyExists => {
            ApiError::conflict("a contact point with the same uid already exists")
        }
        StoreError::VersionMismatch => ApiError::conflict(
            "The contact point has been changed by someone else (its version is not the one \
             sent); reload it and try again",
        )
        .with_status_word("version-mismatch"),
        other => ApiError::from_store(other, "Contact point"),
    }
}

fn encrypt_all(
    secrets: &Secrets,
    values: &BTreeMap<String, String>,
) -> ApiResult<BTreeMap<String, String>> {
    values
        .iter()
        .map(|(field, value)| {
            secrets
                .encrypt(field, value)
                .map(|sealed| (field.clone(), sealed))
                .map_err(|e| {
                    tracing::error!(error = %e, "encrypting a contact point secret failed");
                    ApiError::internal()
                })
        })
        .collect()
}

fn undecryptable(cp: &ContactPoint, e: SecretError) -> ApiError {
    tracing::error!(contact_point = %cp.uid, error = %e, "cannot decrypt a contact point's secrets");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "The secret settings of contact point {:?} cannot be decrypted with this replica's \
             security.secret_key; send them again or fix the key",
            cp.name
        ),
    )
}

/// The receiver names the org's policy tree routes to (the default tree's when none is saved).
async fn receivers_in_use(state: &AppState, org_id: i64) -> ApiResult<BTreeSet<String>> {
    let tree = super::policies::current_tree(state, org_id).await?.0;
    Ok(pharos_alerting::route::receivers_used(&tree))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactPointBody {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    settings: Value,
    #[serde(default)]
    disable_resolve_message: bool,
    version: Option<i64>,
}

impl ContactPointBody {
    fn check_basics(&self) -> ApiResult<()> {
        if self.name.trim().is_empty() {
            return Err(ApiError::bad_request("contact point name is required"));
        }
        if self.kind.trim().is_empty() {
            return Err(ApiError::bad_request("contact point type is required"));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ListQuery {
    name: Option<String>,
}

/// `GET /api/v1/provisioning/contact-points` (`?name=` filters).
async fn list(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let name = q.name.filter(|n| !n.is_empty());
    let all = state
        .store
        .contact_points(who.org_id, name.as_deref())
        .await
        .map_err(store_error)?;
    Ok(Json(Value::Array(all.iter().map(item_json).collect())))
}

/// `POST /api/v1/provisioning/contact-points` → 202 with the contact point.
async fn create(
    State(state): State<AppState>,
    Editor(who): Editor,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ContactPointBody>,
) -> ApiResult<Response> {
    body.check_basics()?;
    let (plain, mut secure) = split(&body.kind, &body.settings)?;
    secure.retain(|_, v| !v.is_empty() && v != SECURE_PLACEHOLDER);
    let mut full = plain.clone();
    for (k, v) in &secure {
        full.insert(k.clone(), Value::String(v.clone()));
    }
    validate(&state, &body.kind, &Value::Object(full))?;
    let secrets = Secrets::from_config(&state.config);
    let input = ContactPointInput {
        uid: body.uid.clone(),
        name: body.name.trim().to_string(),
        kind: body.kind.clone(),
        settings: Value::Object(plain).to_string(),
        secure_settings: encrypt_all(&secrets, &secure)?,
        disable_resolve_message: body.disable_resolve_message,
        provenance: provenance(&headers),
    };
    let cp = state
        .store
        .create_contact_point(who.org_id, &input)
        .await
        .map_err(store_error)?;
    tracing::info!(contact_point = %cp.uid, kind = %cp.kind, by = %who.login, "contact point created");
    Ok((StatusCode::ACCEPTED, Json(item_json(&cp))).into_response())
}

/// `PUT /api/v1/provisioning/contact-points/:uid` → 202 `{"message": "contactpoint updated"}`.
async fn update(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ContactPointBody>,
) -> ApiResult<Response> {
    body.check_basics()?;
    let current = state
        .store
        .contact_point(who.org_id, &uid)
        .await
        .map_err(store_error)?;
    let secrets = Secrets::from_config(&state.config);
    let (plain, sent) = split(&body.kind, &body.settings)?;
    // Secrets: sent values replace, "" clears, left out or "[REDACTED]" keeps (same type only).
    let mut plaintext = BTreeMap::new();
    let mut sealed = BTreeMap::new();
    if current.kind == body.kind {
        for (field, stored) in &current.secure_settings {
            let keep = sent.get(field).is_none_or(|v| v == SECURE_PLACEHOLDER);
            if keep {
                let value = secrets
                    .decrypt(field, stored)
                    .map_err(|e| undecryptable(&current, e))?;
                plaintext.insert(field.clone(), value);
                sealed.insert(field.clone(), stored.clone());
            }
        }
    }
    let fresh: BTreeMap<String, String> = sent
        .into_iter()
        .filter(|(_, v)| !v.is_empty() && v != SECURE_PLACEHOLDER)
        .collect();
    sealed.extend(encrypt_all(&secrets, &fresh)?);
    plaintext.extend(fresh);
    let mut full = plain.clone();
    for (k, v) in &plaintext {
        full.insert(k.clone(), Value::String(v.clone()));
    }
    validate(&state, &body.kind, &Value::Object(full))?;
    let name = body.name.trim().to_string();
    if name != current.name {
        refuse_orphaning(&state, who.org_id, &current, "renamed").await?;
    }
    let input = ContactPointInput {
        uid: uid.clone(),
        name,
        kind: body.kind.clone(),
        settings: Value::Object(plain).to_string(),
        secure_settings: sealed,
        disable_resolve_message: body.disable_resolve_message,
        provenance: provenance(&headers),
    };
    state
        .store
        .update_contact_point(who.org_id, &uid, &input, body.version)
        .await
        .map_err(store_error)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "contactpoint updated"})),
    )
        .into_response())
}

/// A receiver the policy tree routes to must keep at least one integration: removing or
/// renaming its last one is refused with 409, as Grafana refuses deleting a referenced
/// contact point.
async fn refuse_orphaning(
    state: &AppState,
    org_id: i64,
    cp: &ContactPoint,
    verb: &str,
) -> ApiResult<()> {
    let same_name = state
        .store
        .contact_points(org_id, Some(&cp.name))
        .await
        .map_err(store_error)?;
    let last = same_name.iter().all(|other| other.uid == cp.uid);
    if last && receivers_in_use(state, org_id).await?.contains(&cp.name) {
        return Err(ApiError::conflict(format!(
            "contact point {:?} is referenced by a notification policy and cannot be {verb}; \
             change the policy first",
            cp.name
        )));
    }
    Ok(())
}

/// `DELETE /api/v1/provisioning/contact-points/:uid` → 202 `{"message": "contactpoint deleted"}`.
async fn delete(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
) -> ApiResult<Response> {
    let current = state
        .store
        .contact_point(who.org_id, &uid)
        .await
        .map_err(store_error)?;
    refuse_orphaning(&state, who.org_id, &current, "deleted").await?;
    state
        .store
        .delete_contact_point(who.org_id, &uid)
        .await
        .map_err(store_error)?;
    tracing::info!(contact_point = %uid, by = %who.login, "contact point deleted");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "contactpoint deleted"})),
    )
        .into_response())
}

// ------------------------------------------------------------------ receiver test

#[derive(Deserialize, Default)]
struct TestAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TestReceiver {
    #[serde(default)]
    name: String,
    #[serde(default)]
    grafana_managed_receiver_configs: Vec<TestIntegration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestIntegration {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    settings: Value,
    #[serde(default)]
    secure_settings: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TestBody {
    #[serde(default)]
    alert: Option<TestAlert>,
    #[serde(default)]
    receivers: Vec<TestReceiver>,
}

/// Grafana's default and longest time for a receiver test.
const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The `Request-Timeout` header (seconds), as Grafana reads it for receiver tests.
fn test_timeout(headers: &HeaderMap) -> ApiResult<Duration> {
    let Some(raw) = headers.get("request-timeout") else {
        return Ok(DEFAULT_TEST_TIMEOUT);
    };
    let seconds = raw
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| {
            ApiError::bad_request("Request-Timeout must be a positive number of seconds")
        })?;
    Ok(Duration::from_secs_f64(seconds).min(MAX_TEST_TIMEOUT))
}

enum Outcome {
    Ok,
    Invalid(String),
    TimedOut(String),
    Failed(String),
}

/// `POST /api/alertmanager/grafana/config/api/v1/receivers/test`: sends a test alert through
/// every integration of every receiver in the body and reports each result. 200 when all were
/// delivered, 400 when every one is invalid, 408 when every one timed out, 207 otherwise.
async fn test_receivers(
    State(state): State<AppState>,
    Editor(who): Editor,
    headers: HeaderMap,
    JsonBody(body): JsonBody<TestBody>,
) -> ApiResult<Response> {
    let timeout = test_timeout(&headers)?;
    let total: usize = body
        .receivers
        .iter()
        .map(|r| r.grafana_managed_receiver_configs.len())
        .sum();
    if total == 0 {
        return Err(ApiError::bad_request("no receivers to test"));
    }
    if total > 50 {
        return Err(ApiError::bad_request("at most 50 integrations per test"));
    }
    let alert_params = body.alert.unwrap_or_default();
    let now = now_ms();
    let mut labels = BTreeMap::from([
        ("alertname".to_string(), "TestAlert".to_string()),
        ("instance".to_string(), "Grafana".to_string()),
    ]);
    labels.extend(alert_params.labels.clone());
    let mut annotations =
        BTreeMap::from([("summary".to_string(), "Notification test".to_string())]);
    annotations.extend(alert_params.annotations.clone());
    let external_url = state.config.root_url.to_string();
    let alert = Alert {
        labels: labels.clone(),
        annotations: annotations.clone(),
        starts_at: now,
        ends_at: None,
        generator_url: external_url.clone(),
        values: BTreeMap::new(),
        value_string: "[ metric='foo' labels={instance=bar} value=10 ]".into(),
    };
    let secrets = Secrets::from_config(&state.config);
    let smtp = state.config.smtp.clone();
    let mut jobs = Vec::new();
    for receiver in &body.receivers {
        for integration in &receiver.grafana_managed_receiver_configs {
            // The settings, with secrets from the body or, for a stored integration, the store.
            let (plain, mut secure) = split(&integration.kind, &integration.settings)?;
            secure.extend(integration.secure_settings.clone());
            let mut full = plain;
            for (k, v) in secure {
                full.insert(k, Value::String(v));
            }
            if !integration.uid.is_empty() {
                if let Ok(stored) = state
                    .store
                    .contact_point(who.org_id, &integration.uid)
                    .await
                {
                    if stored.kind == integration.kind {
                        full = with_stored_secrets(&secrets, full, &stored.secure_settings)
                            .map_err(|e| undecryptable(&stored, e))?;
                    }
                }
            }
            let notification = Notification {
                log_key: format!("test/{}/{}/{}", receiver.name, now, rand::random::<u64>()),
                receiver: receiver.name.clone(),
                group_key: format!("test/{}", receiver.name),
                group_labels: labels.clone(),
                alerts: vec![alert.clone()],
                org_id: who.org_id,
                external_url: external_url.clone(),
            };
            let kind = integration.kind.clone();
            let built = if SUPPORTED_TYPES.contains(&kind.as_str()) {
                notifier(&kind, &Value::Object(full), smtp.as_ref())
            } else {
                Err(format!("unsupported contact point type {kind:?}"))
            };
            jobs.push(async move {
                let notifier = match built {
                    Ok(n) => n,
                    Err(e) => return Outcome::Invalid(format!("the receiver is invalid: {e}")),
                };
                match tokio::time::timeout(timeout, notifier.send(&notification)).await {
                    Ok(Ok(())) => Outcome::Ok,
                    Ok(Err(e)) => Outcome::Failed(e.message),
                    Err(_) => Outcome::TimedOut(format!(
                        "the receiver timed out: no answer within {} s",
                        timeout.as_secs_f64()
                    )),
                }
            });
        }
    }
    let outcomes = futures_util::future::join_all(jobs).await;
    let (mut invalid, mut timed_out, mut failed) = (0, 0, 0);
    let mut outcomes = outcomes.into_iter();
    let mut receivers = Vec::new();
    for receiver in &body.receivers {
        let mut configs = Vec::new();
        for integration in &receiver.grafana_managed_receiver_configs {
            let outcome = outcomes.next().unwrap_or(Outcome::Failed("not run".into()));
            let mut result = json!({
                "name": integration.name,
                "uid": integration.uid,
                "status": "ok",
            });
            let error = match outcome {
                Outcome::Ok => None,
                Outcome::Invalid(e) => {
                    invalid += 1;
                    Some(e)
                }
                Outcome::TimedOut(e) => {
                    timed_out += 1;
                    Some(e)
                }
                Outcome::Failed(e) => {
                    failed += 1;
                    Some(e)
                }
            };
            if let Some(error) = error {
                result["status"] = json!("failed");
                result["error"] = json!(error);
            }
            configs.push(result);
        }
        receivers.push(json!({
            "name": receiver.name,
            "grafana_managed_receiver_configs": configs,
        }));
    }
    let status = if invalid == total {
        StatusCode::BAD_REQUEST
    } else if timed_out == total {
        StatusCode::REQUEST_TIMEOUT
    } else if invalid + timed_out + failed > 0 {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    tracing::info!(integrations = total, failed = invalid + timed_out + failed, by = %who.login, "receiver test");
    let mut answer = json!({
        "alert": {"labels": labels, "annotations": annotations},
        "receivers": receivers,
        "notified_at": rfc3339(now),
    });
    if status != StatusCode::OK {
        let bad = invalid + timed_out + failed;
        answer["message"] = json!(format!("{bad} of {total} integrations failed the test"));
    }
    Ok((status, Json(answer)).into_response())
}

//! Silences on Grafana's Alertmanager-compatible paths (`/api/alertmanager/grafana/api/v2/...`),
//! in Alertmanager's v2 shape. A silence is checked with `pharos_alerting::Silence::compile` (at
//! least one matcher, valid regular expressions, end after start, not a silence of everything),
//! and, as Alertmanager does, its end must not be in the past and a start in the past becomes now.
//!
//! `POST` with an `id` updates that silence: in place while it is pending, or active with the same
//! matchers and start; otherwise (it has ended, or an active one's matchers or start change) the
//! old one is expired and a new one with a new id is made, as Alertmanager does. `DELETE` expires.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pharos_alerting::matcher::{MatchOp, Matcher};
use pharos_alerting::silence::SilenceMatcher;
use pharos_alerting::Silence;
use pharos_store::{SilenceInput, StoreError};
use serde_json::{json, Value};

use super::now_ms;
use crate::api::rfc3339;
use crate::auth::{Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/alertmanager/grafana/api/v2/silences",
            get(list).post(save),
        )
        .route(
            "/api/alertmanager/grafana/api/v2/silence/{id}",
            get(get_one).delete(expire),
        )
}

fn not_found() -> ApiError {
    ApiError::not_found("silence not found")
}

fn state_of(starts_at: i64, ends_at: i64, now: i64) -> &'static str {
    if now < starts_at {
        "pending"
    } else if now < ends_at {
        "active"
    } else {
        "expired"
    }
}

/// Alertmanager's `GettableSilence`.
fn silence_json(s: &pharos_store::Silence, now: i64) -> ApiResult<Value> {
    let matchers: Value = serde_json::from_str(&s.matchers).map_err(|e| {
        tracing::error!(silence = %s.id, error = %e, "stored silence matchers do not parse");
        ApiError::internal()
    })?;
    Ok(json!({
        "id": s.id,
        "status": {"state": state_of(s.starts_at, s.ends_at, now)},
        "updatedAt": rfc3339(s.updated_at),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": rfc3339(s.ends_at),
        "matchers": matchers,
        "startsAt": rfc3339(s.starts_at),
    }))
}

/// One `filter=` of Alertmanager's silence list: `name=value`, `name!=value`, `name=~re`,
/// `name!~re`, the value optionally quoted.
fn parse_filter(text: &str) -> Result<SilenceMatcher, String> {
    let text = text.trim().trim_start_matches('{').trim_end_matches('}');
    let at = text
        .find(['=', '!'])
        .ok_or_else(|| format!("bad matcher {text:?}"))?;
    let (name, rest) = text.split_at(at);
    let (op, value) = ["!=", "=~", "!~", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
        .ok_or_else(|| format!("bad matcher {text:?}"))?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let parsed = MatchOp::parse(op).ok_or_else(|| format!("bad matcher {text:?}"))?;
    Matcher::new(name.trim(), parsed, value)?;
    Ok(SilenceMatcher {
        name: name.trim().to_string(),
        value: value.to_string(),
        is_regex: op.contains('~'),
        is_equal: !op.starts_with('!'),
    })
}

/// Whether a silence's own matchers include one equal to the filter (Alertmanager's list filter
/// matches silences whose matchers contain the filter's).
fn silence_has(matchers: &[SilenceMatcher], filter: &SilenceMatcher) -> bool {
    matchers.iter().any(|m| m == filter)
}

/// `GET /api/alertmanager/grafana/api/v2/silences` (`filter=` repeatable).
async fn list(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut filters = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "filter" {
            filters.push(parse_filter(&value).map_err(ApiError::bad_request)?);
        }
    }
    let now = now_ms();
    let mut out = Vec::new();
    for s in state
        .store
        .silences(who.org_id)
        .await
        .map_err(|e| ApiError::from_store(e, "Silence"))?
    {
        if !filters.is_empty() {
            let own: Vec<SilenceMatcher> = serde_json::from_str(&s.matchers).unwrap_or_default();
            if !filters.iter().all(|f| silence_has(&own, f)) {
                continue;
            }
        }
        out.push(silence_json(&s, now)?);
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /api/alertmanager/grafana/api/v2/silence/:id`
async fn get_one(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    match state.store.silence(who.org_id, &id).await {
        Ok(s) => Ok(Json(silence_json(&s, now_ms())?)),
        Err(StoreError::NotFound) => Err(not_found()),
        Err(e) => Err(ApiError::from_store(e, "Silence")),
    }
}

/// `POST /api/alertmanager/grafana/api/v2/silences` → 202 `{"silenceID": ...}`.
async fn save(
    State(state): State<AppState>,
    Editor(who): Editor,
    JsonBody(mut silence): JsonBody<Silence>,
) -> ApiResult<Response> {
    let now = now_ms();
    if silence.comment.trim().is_empty() {
        return Err(ApiError::bad_request(
            "silence invalid: comment is required",
        ));
    }
    if silence.created_by.trim().is_empty() {
        silence.created_by = who.actor().to_string();
    }
    if silence.ends_at <= now {
        return Err(ApiError::bad_request(
            "silence invalid: endsAt is in the past",
        ));
    }
    if silence.starts_at < now {
        silence.starts_at = now;
    }
    silence
        .compile()
        .map_err(|e| ApiError::bad_request(format!("silence invalid: {e}")))?;
    let matchers = serde_json::to_string(&silence.matchers).map_err(|_| ApiError::internal())?;
    let mut id = (!silence.id.is_empty()).then(|| silence.id.clone());
    if let Some(existing_id) = &id {
        let existing = match state.store.silence(who.org_id, existing_id).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(e) => return Err(ApiError::from_store(e, "Silence")),
        };
        let current = state_of(existing.starts_at, existing.ends_at, now);
        let same_matchers = serde_json::from_str::<Value>(&existing.matchers).ok()
            == serde_json::from_str::<Value>(&matchers).ok();
        let in_place = current == "pending" || (current == "active" && same_matchers);
        if in_place {
            if current == "active" {
                // An active silence keeps its start.
                silence.starts_at = existing.starts_at;
            }
        } else {
            state
                .store
                .expire_silence(who.org_id, existing_id, now)
                .await
                .map_err(|e| ApiError::from_store(e, "Silence"))?;
            id = None;
        }
    }
    let input = SilenceInput {
        id,
        matchers,
        starts_at: silence.starts_at,
        ends_at: silence.ends_at,
        comment: silence.comment.clone(),
        created_by: silence.created_by.clone(),
    };
    let saved = state
        .store
        .save_silence(who.org_id, &input)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => ApiError::from_store(other, "Silence"),
        })?;
    tracing::info!(silence = %saved.id, by = %who.login, "silence saved");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "silence created", "silenceID": saved.id})),
    )
        .into_response())
}

/// `DELETE /api/alertmanager/grafana/api/v2/silence/:id`: expires it (an ended one stays as it
/// was) → 200 `{"message": "silence deleted"}`.
async fn expire(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    match state.store.silence(who.org_id, &id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(ApiError::from_store(e, "Silence")),
    }
    state
        .store
        .expire_silence(who.org_id, &id, now_ms())
        .await
        .map_err(|e| ApiError::from_store(e, "Silence"))?;
    Ok(Json(json!({"message": "silence deleted"})))
}

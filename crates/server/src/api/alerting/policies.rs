//! `/api/v1/provisioning/policies`: the org's notification policy tree (Grafana's provisioning
//! API). GET answers the saved tree, or Grafana's default one when none is saved; PUT checks the
//! tree with `pharos_alerting`'s `Route::compile` against the org's contact point names (an unknown
//! receiver, a bad matcher or duration is a 400) and saves it; DELETE goes back to the default.
//!
//! The tree answered carries `provenance` when it has one (as Grafana's does) and `version`
//! (Pharos'); a PUT that sends a `version` other than the stored one (0 before any save) is
//! refused with 409. Both are taken out of the tree before it is saved.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pharos_alerting::Route;
use pharos_store::StoreError;
use serde_json::{json, Value};

use super::provenance;
use crate::auth::{Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/provisioning/policies",
        get(get_tree).put(put_tree).delete(reset_tree),
    )
}

/// Grafana's default policy: everything to `grafana-default-email`, grouped by folder and
/// alert name (the tree the scheduler routes by when an org saved none).
pub fn default_policy_tree() -> Route {
    Route {
        receiver: Some(pharos_alerting::scheduler::DEFAULT_RECEIVER.into()),
        group_by: Some(vec!["grafana_folder".into(), "alertname".into()]),
        ..Route::default()
    }
}

/// The org's tree, its version (0 for the default) and provenance.
pub(super) async fn current_tree(state: &AppState, org_id: i64) -> ApiResult<(Route, i64, String)> {
    match state
        .store
        .notification_policy(org_id)
        .await
        .map_err(|e| ApiError::from_store(e, "Notification policy"))?
    {
        None => Ok((default_policy_tree(), 0, String::new())),
        Some(saved) => {
            let tree = serde_json::from_str::<Route>(&saved.tree).map_err(|e| {
                tracing::error!(org = org_id, error = %e, "the stored policy tree does not parse");
                ApiError::internal()
            })?;
            Ok((tree, saved.version, saved.provenance))
        }
    }
}

fn tree_json(tree: &Route, version: i64, provenance: &str) -> ApiResult<Value> {
    let mut value = serde_json::to_value(tree).map_err(|_| ApiError::internal())?;
    if !provenance.is_empty() {
        value["provenance"] = json!(provenance);
    }
    value["version"] = json!(version);
    Ok(value)
}

/// `GET /api/v1/provisioning/policies`
async fn get_tree(State(state): State<AppState>, Viewer(who): Viewer) -> ApiResult<Json<Value>> {
    let (tree, version, provenance) = current_tree(&state, who.org_id).await?;
    Ok(Json(tree_json(&tree, version, &provenance)?))
}

/// `PUT /api/v1/provisioning/policies` → 202 `{"message": "policies updated"}`.
async fn put_tree(
    State(state): State<AppState>,
    Editor(who): Editor,
    headers: HeaderMap,
    JsonBody(mut tree): JsonBody<Route>,
) -> ApiResult<Response> {
    tree.extra.remove("provenance");
    let version = match tree.extra.remove("version") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(_) => return Err(ApiError::bad_request("version must be an integer")),
    };
    let receivers: BTreeSet<String> = state
        .store
        .contact_points(who.org_id, None)
        .await
        .map_err(|e| ApiError::from_store(e, "Contact point"))?
        .into_iter()
        .map(|cp| cp.name)
        .collect();
    tree.compile(&receivers)
        .map_err(|e| ApiError::bad_request(format!("invalid policy tree: {e}")))?;
    let text = serde_json::to_string(&tree).map_err(|_| ApiError::internal())?;
    match state
        .store
        .save_notification_policy(who.org_id, &text, &provenance(&headers), version)
        .await
    {
        Ok(_) => {}
        Err(StoreError::VersionMismatch) => {
            return Err(ApiError::conflict(
                "The notification policy tree has been changed by someone else (its version \
                 is not the one sent); reload it and try again",
            )
            .with_status_word("version-mismatch"))
        }
        Err(e) => return Err(ApiError::from_store(e, "Notification policy")),
    }
    tracing::info!(org = who.org_id, by = %who.login, "notification policy tree saved");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "policies updated"})),
    )
        .into_response())
}

/// `DELETE /api/v1/provisioning/policies` → 202 with the default tree now in force.
async fn reset_tree(State(state): State<AppState>, Editor(who): Editor) -> ApiResult<Response> {
    state
        .store
        .reset_notification_policy(who.org_id)
        .await
        .map_err(|e| ApiError::from_store(e, "Notification policy"))?;
    let tree = tree_json(&default_policy_tree(), 0, "")?;
    Ok((StatusCode::ACCEPTED, Json(tree)).into_response())
}

//! `GET /api/frontend/settings`: the part of Grafana's boot data that API clients read. grafana-client
//! takes the server version from `buildInfo.version` here, not from `/api/health`; the UI finds the
//! org's datasources (`datasources`, keyed by name) and the default one's name here.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::SignedIn;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::telemetry::{reported_version, COMMIT, VERSION};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/frontend/settings", get(settings))
}

async fn settings(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> ApiResult<Json<Value>> {
    // A caller with no role in its org (a user removed from it) sees no datasources.
    let (datasources, default_datasource) = if who.role.is_some() {
        super::datasources::frontend_settings(&state, who.org_id).await?
    } else {
        (json!({}), String::new())
    };
    let root = state.config.root_url.as_str().trim_end_matches('/');
    let sub_path = state.config.root_url.path().trim_end_matches('/');
    Ok(Json(json!({
        "appUrl": format!("{root}/"),
        "appSubUrl": sub_path,
        "anonymousEnabled": false,
        "authProxyEnabled": false,
        "datasources": datasources,
        "defaultDatasource": default_datasource,
        "buildInfo": {
            "version": reported_version(),
            "commit": COMMIT,
            "edition": "Open Source",
            "env": "production",
            "hideVersion": false,
            "hasUpdate": false,
            "latestVersion": "",
            "pharosVersion": VERSION,
        },
    })))
}

//! `GET /api/frontend/settings`: the part of Grafana's boot data that API clients read. grafana-client
//! takes the server version from `buildInfo.version` here, not from `/api/health`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::SignedIn;
use crate::state::AppState;
use crate::telemetry::{reported_version, COMMIT, VERSION};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/frontend/settings", get(settings))
}

async fn settings(State(state): State<AppState>, SignedIn(_): SignedIn) -> Json<Value> {
    let root = state.config.root_url.as_str().trim_end_matches('/');
    let sub_path = state.config.root_url.path().trim_end_matches('/');
    Json(json!({
        "appUrl": format!("{root}/"),
        "appSubUrl": sub_path,
        "anonymousEnabled": false,
        "authProxyEnabled": false,
        "datasources": {},
        "defaultDatasource": "",
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
    }))
}

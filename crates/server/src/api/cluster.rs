//! `GET /api/cluster`: the replicas, their health and the lease holders (Pharos' own route; the web
//! UI's cluster page reads it).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::AnyAdmin;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/cluster", get(cluster))
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// `GET /api/cluster` (org admin or server admin). Dead members (heartbeat older than
/// `cluster.member_timeout`) are removed first, by whichever replica answers; a member is healthy
/// while its last heartbeat is at most three heartbeat intervals old. Leases that were released
/// are listed too, with an empty `holder`, `"held": false` and no `expiresAt`; an expired one shows
/// `"held": false` until someone takes it again.
async fn cluster(State(state): State<AppState>, AnyAdmin(_): AnyAdmin) -> ApiResult<Json<Value>> {
    let settings = state.cluster.membership.settings();
    let timeout_ms = millis(settings.member_timeout);
    let healthy_ms = timeout_ms.min(millis(settings.heartbeat_interval).saturating_mul(3));
    let store = &state.store;
    store.prune_dead_members(timeout_ms).await?;
    let members = store.members().await?;
    let leases = store.leases().await?;
    let now = store.db_now_ms().await?;
    let me = state.cluster.membership.id();
    let members: Vec<Value> = members
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "address": m.address,
                "version": m.version,
                "startedAt": rfc3339(m.started_at),
                "lastHeartbeat": rfc3339(m.heartbeat_at),
                "healthy": now - m.heartbeat_at <= healthy_ms,
                "self": m.id == me,
            })
        })
        .collect();
    let leases: Vec<Value> = leases
        .into_iter()
        .map(|l| {
            let released = l.holder.is_empty();
            json!({
                "name": l.name,
                "held": !released && l.expires_at > now,
                "holder": l.holder,
                "fencingToken": l.fencing_token,
                "expiresAt": if released { Value::Null } else { Value::from(rfc3339(l.expires_at)) },
            })
        })
        .collect();
    Ok(Json(json!({"members": members, "leases": leases})))
}

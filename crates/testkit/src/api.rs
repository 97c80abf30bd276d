//! Calls of the HTTP API that many tests make on the way to what they check, each insisting on
//! success.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{Client, Pharos};

/// Saves `body` through `POST /api/dashboards/db` and insists on 200.
pub async fn save_ok(client: &Client, body: Value) -> Value {
    let (status, resp) = client.post("/api/dashboards/db", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "saving {body}: {resp}");
    resp
}

/// `GET /api/dashboards/uid/{uid}`, insisting on 200.
pub async fn get_dashboard(client: &Client, uid: &str) -> Value {
    let (status, body) = client.get(&format!("/api/dashboards/uid/{uid}")).await;
    assert_eq!(status, StatusCode::OK, "GET {uid}: {body}");
    body
}

/// A service account `name` with `role` and a token for it (living `ttl` seconds if given), made
/// by the admin: (service account id, token id, token key).
pub async fn create_token(
    px: &Pharos,
    name: &str,
    role: &str,
    ttl: Option<i64>,
) -> (i64, i64, String) {
    let admin = px.admin();
    let (s, sa) = admin
        .post("/api/serviceaccounts", json!({"name": name, "role": role}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sa}");
    let sa_id = sa["id"].as_i64().unwrap();
    let mut req = json!({"name": format!("{name}-token")});
    if let Some(ttl) = ttl {
        req["secondsToLive"] = json!(ttl);
    }
    let (s, tok) = admin
        .post(&format!("/api/serviceaccounts/{sa_id}/tokens"), req)
        .await;
    assert_eq!(s, StatusCode::OK, "{tok}");
    (
        sa_id,
        tok["id"].as_i64().unwrap(),
        tok["key"].as_str().unwrap().to_string(),
    )
}

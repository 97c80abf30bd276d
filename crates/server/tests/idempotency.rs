//! `Idempotency-Key` on API writes, on SQLite and PostgreSQL: a repeat replays the stored answer
//! (one dashboard version, identical body, `Idempotent-Replayed: true`), a different request with
//! the key gets 422, a request still in flight 409, an expired in-flight claim is taken over,
//! failed requests (400) are replayed too, keys are per caller, racing duplicates run once, and a
//! second replica on the same PostgreSQL replays the first's answer.

use pharos_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sends `body` (exact bytes) with an optional key; returns status, replay header and body text.
async fn post(
    client: &Client,
    path: &str,
    body: &[u8],
    key: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut rb = client
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(key) = key {
        rb = rb.header("Idempotency-Key", key);
    }
    let resp = rb.send().await.expect("request failed");
    let status = resp.status();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, resp.text().await.unwrap())
}

fn dashboard(uid: &str, title: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "dashboard": {"uid": uid, "title": title, "panels": []},
        "overwrite": true
    }))
    .unwrap()
}

async fn version_count(client: &Client, uid: &str) -> usize {
    let (s, body) = client
        .get(&format!("/api/dashboards/uid/{uid}/versions"))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["versions"].as_array().unwrap().len()
}

async fn store_of(px: &Pharos) -> pharos_store::Store {
    pharos_store::Store::connect(&pharos_store::StoreOptions {
        url: px.db.url.clone(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap()
}

backend_matrix!(repeats_replay_and_mismatches_fail, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let body = dashboard("idem-a", "Idem A");
    let first = post(&admin, "/api/dashboards/db", &body, Some("key-1")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.2);
    assert_eq!(first.1, None, "a first answer is not a replay");
    let again = post(&admin, "/api/dashboards/db", &body, Some("key-1")).await;
    assert_eq!(again.0, first.0);
    assert_eq!(again.1.as_deref(), Some("true"));
    assert_eq!(
        again.2, first.2,
        "the replay is the first answer, byte for byte"
    );
    assert_eq!(version_count(&admin, "idem-a").await, 1);

    // The same key on another request (body, or path) is refused and runs nothing.
    let other = post(
        &admin,
        "/api/dashboards/db",
        &dashboard("idem-a", "Changed"),
        Some("key-1"),
    )
    .await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.2);
    let message: Value = serde_json::from_str(&other.2).unwrap();
    assert!(message["message"]
        .as_str()
        .unwrap()
        .contains("different request"));
    let other = post(&admin, "/api/folders", b"{\"title\":\"F\"}", Some("key-1")).await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.2);
    assert_eq!(version_count(&admin, "idem-a").await, 1);

    // Without a key nothing changes: every repeat runs.
    for _ in 0..2 {
        let plain = post(&admin, "/api/dashboards/db", &body, None).await;
        assert_eq!(plain.0, StatusCode::OK, "{}", plain.2);
        assert_eq!(plain.1, None);
    }
    assert_eq!(version_count(&admin, "idem-a").await, 3);

    // Keys are per caller: another user's "key-1" is theirs.
    let editor = px.user_with_role("idem-editor", "Editor").await;
    let theirs = post(&editor, "/api/dashboards/db", &body, Some("key-1")).await;
    assert_eq!(theirs.0, StatusCode::OK, "{}", theirs.2);
    assert_eq!(theirs.1, None);
    assert_eq!(version_count(&admin, "idem-a").await, 4);

    // Reads ignore the header.
    let resp = admin
        .request(Method::GET, "/api/dashboards/uid/idem-a")
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("idempotent-replayed").is_none());
});

backend_matrix!(failed_requests_and_bad_keys, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    // A 400 is a completed answer: it is stored and replayed (the same bytes would fail again).
    let first = post(&admin, "/api/dashboards/db", b"{not json", Some("bad-1")).await;
    assert_eq!(first.0, StatusCode::BAD_REQUEST, "{}", first.2);
    let again = post(&admin, "/api/dashboards/db", b"{not json", Some("bad-1")).await;
    assert_eq!(again.0, StatusCode::BAD_REQUEST);
    assert_eq!(again.1.as_deref(), Some("true"));
    assert_eq!(again.2, first.2);
    let message: Value = serde_json::from_str(&again.2).unwrap();
    assert!(message["message"].is_string(), "{message}");

    // Malformed keys: 400, and nothing runs.
    for key in ["", &"k".repeat(256), "tab\tinside"] {
        let resp = post(
            &admin,
            "/api/dashboards/db",
            &dashboard("bad-key", "B"),
            Some(key),
        )
        .await;
        assert_eq!(resp.0, StatusCode::BAD_REQUEST, "key {key:?}: {}", resp.2);
        let message: Value = serde_json::from_str(&resp.2).unwrap();
        assert!(message["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"));
    }
    let (s, _) = admin.get("/api/dashboards/uid/bad-key").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The longest key is fine.
    let resp = post(
        &admin,
        "/api/dashboards/db",
        &dashboard("long-key", "L"),
        Some(&"k".repeat(255)),
    )
    .await;
    assert_eq!(resp.0, StatusCode::OK, "{}", resp.2);

    // Anonymous writes are refused as before, key or not.
    let anon = post(
        &px.anonymous(),
        "/api/dashboards/db",
        &dashboard("x", "X"),
        Some("a"),
    )
    .await;
    assert_eq!(anon.0, StatusCode::UNAUTHORIZED);
});

backend_matrix!(
    in_flight_conflicts_and_expired_claims_are_taken_over,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let store = store_of(&px).await;
        // The admin is user 1 in org 1.
        let scope = "org:1:user:1";
        let body = dashboard("idem-flight", "In flight");
        let fingerprint = pharos_server::idempotency::fingerprint(
            &axum::http::Method::POST,
            "/api/dashboards/db",
            &body,
        );
        let now = pharos_store::now_ms();
        // Another replica is processing this very request right now (a member that cannot be
        // probed, so it counts as alive).
        let replica = "2222222222222222";
        store
            .heartbeat_member(replica, "0.0.0.0:1", "test")
            .await
            .unwrap();
        store
            .claim_idempotency_key(scope, "busy", &fingerprint, replica, now, 60_000)
            .await
            .unwrap();
        let resp = post(&admin, "/api/dashboards/db", &body, Some("busy")).await;
        assert_eq!(resp.0, StatusCode::CONFLICT, "{}", resp.2);
        let message: Value = serde_json::from_str(&resp.2).unwrap();
        assert!(message["message"]
            .as_str()
            .unwrap()
            .contains("still being processed"));
        let (s, _) = admin.get("/api/dashboards/uid/idem-flight").await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "a conflicting repeat runs nothing"
        );

        // Claimed two minutes ago by a replica whose fate is unknown: its lock ran out, the retry
        // takes over.
        store
            .claim_idempotency_key(
                scope,
                "orphan",
                &fingerprint,
                replica,
                now - 120_000,
                60_000,
            )
            .await
            .unwrap();
        let resp = post(&admin, "/api/dashboards/db", &body, Some("orphan")).await;
        assert_eq!(resp.0, StatusCode::OK, "{}", resp.2);
        assert_eq!(resp.1, None);
        let again = post(&admin, "/api/dashboards/db", &body, Some("orphan")).await;
        assert_eq!(again.1.as_deref(), Some("true"));
        assert_eq!(again.2, resp.2);
        assert_eq!(version_count(&admin, "idem-flight").await, 1);
        store.close().await;
    }
);

/// A replica killed mid-request leaves its claim in flight; the balancer's retry lands on another
/// replica within milliseconds. It must run the request at once when the holder is certainly
/// dead, and still answer 409 while the holder lives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_dead_replicas_are_taken_over_at_once() {
    let px = Pharos::start(Backend::Postgres).await;
    let other = Pharos::start_with(px.db.clone(), Options::default()).await;
    let admin = px.admin();
    let store = store_of(&px).await;
    let scope = "org:1:user:1";
    let body = dashboard("idem-dead", "Dead holder");
    let fingerprint = pharos_server::idempotency::fingerprint(
        &axum::http::Method::POST,
        "/api/dashboards/db",
        &body,
    );
    let now = pharos_store::now_ms();
    let livez = |url: String| async move {
        let v: Value = reqwest::get(format!("{url}/livez"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["replica"].as_str().unwrap().to_string()
    };
    let other_id = livez(other.url.clone()).await;
    assert_ne!(
        other_id,
        livez(px.url.clone()).await,
        "/livez names each replica"
    );

    // Held by a live replica: 409, nothing runs.
    store
        .claim_idempotency_key(scope, "live", &fingerprint, &other_id, now, 60_000)
        .await
        .unwrap();
    let resp = post(&admin, "/api/dashboards/db", &body, Some("live")).await;
    assert_eq!(resp.0, StatusCode::CONFLICT, "{}", resp.2);

    // Held by a replica that is not a member (gone): runs at once.
    store
        .claim_idempotency_key(scope, "gone", &fingerprint, "0123456789abcdef", now, 60_000)
        .await
        .unwrap();
    let resp = post(&admin, "/api/dashboards/db", &body, Some("gone")).await;
    assert_eq!(resp.0, StatusCode::OK, "{}", resp.2);

    // Held by a registered member whose address refuses connections (killed -9, not yet aged
    // out), and by one whose address now answers as another replica (restarted on its port).
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for (id, address, key) in [
        (
            "fedcba9876543210",
            format!("127.0.0.1:{closed_port}"),
            "killed",
        ),
        (
            "00000000deadbeef",
            other.url.trim_start_matches("http://").to_string(),
            "restarted",
        ),
    ] {
        store.heartbeat_member(id, &address, "test").await.unwrap();
        let body = dashboard(&format!("idem-{key}"), key);
        let fingerprint = pharos_server::idempotency::fingerprint(
            &axum::http::Method::POST,
            "/api/dashboards/db",
            &body,
        );
        store
            .claim_idempotency_key(scope, key, &fingerprint, id, now, 60_000)
            .await
            .unwrap();
        let resp = post(&admin, "/api/dashboards/db", &body, Some(key)).await;
        assert_eq!(resp.0, StatusCode::OK, "{key}: {}", resp.2);
        let again = post(&admin, "/api/dashboards/db", &body, Some(key)).await;
        assert_eq!(again.1.as_deref(), Some("true"), "{key}: replayed after");
        assert_eq!(version_count(&admin, &format!("idem-{key}")).await, 1);
    }
    // Held by this very replica, but nothing here runs it (its release failed while the
    // database was away): taken over at once.
    let own_id = livez(px.url.clone()).await;
    let body = dashboard("idem-self", "Self");
    let fingerprint = pharos_server::idempotency::fingerprint(
        &axum::http::Method::POST,
        "/api/dashboards/db",
        &body,
    );
    store
        .claim_idempotency_key(scope, "self", &fingerprint, &own_id, now, 60_000)
        .await
        .unwrap();
    let resp = post(&admin, "/api/dashboards/db", &body, Some("self")).await;
    assert_eq!(resp.0, StatusCode::OK, "{}", resp.2);

    // A member with an unspecified address (0.0.0.0) cannot be probed: counted alive.
    store
        .heartbeat_member("1111111111111111", "0.0.0.0:1", "test")
        .await
        .unwrap();
    let body = dashboard("idem-unknown", "Unknown");
    let fingerprint = pharos_server::idempotency::fingerprint(
        &axum::http::Method::POST,
        "/api/dashboards/db",
        &body,
    );
    store
        .claim_idempotency_key(
            scope,
            "unknown",
            &fingerprint,
            "1111111111111111",
            now,
            60_000,
        )
        .await
        .unwrap();
    let resp = post(&admin, "/api/dashboards/db", &body, Some("unknown")).await;
    assert_eq!(resp.0, StatusCode::CONFLICT, "{}", resp.2);
    store.close().await;
}

backend_matrix!(racing_duplicates_run_once, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let body = dashboard("idem-race", "Race");
    let answers = futures_util::future::join_all(
        (0..8).map(|_| post(&admin, "/api/dashboards/db", &body, Some("race"))),
    )
    .await;
    let mut first = None;
    for (status, replayed, text) in &answers {
        match (status.as_u16(), replayed.as_deref()) {
            (200, None) => assert!(first.replace(text.clone()).is_none(), "ran twice"),
            (200, Some("true")) | (409, None) => {}
            other => panic!("unexpected {other:?}: {text}"),
        }
    }
    let first = first.expect("one request ran");
    for (status, _, text) in &answers {
        if *status == StatusCode::OK {
            assert_eq!(text, &first);
        }
    }
    assert_eq!(version_count(&admin, "idem-race").await, 1);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_replica_replays_the_first_ones_answer() {
    let db = Database::fresh(Backend::Postgres);
    let a = Pharos::start_with(db.clone(), Options::default()).await;
    let b = Pharos::start_with(db.clone(), Options::default()).await;
    let body = dashboard("idem-ha", "HA");
    let on_a = post(&a.admin(), "/api/dashboards/db", &body, Some("ha-1")).await;
    assert_eq!(on_a.0, StatusCode::OK, "{}", on_a.2);
    assert_eq!(on_a.1, None);
    let on_b = post(&b.admin(), "/api/dashboards/db", &body, Some("ha-1")).await;
    assert_eq!(on_b.0, StatusCode::OK);
    assert_eq!(on_b.1.as_deref(), Some("true"));
    assert_eq!(on_b.2, on_a.2);
    assert_eq!(version_count(&b.admin(), "idem-ha").await, 1);
    let other = post(
        &b.admin(),
        "/api/dashboards/db",
        &dashboard("idem-ha", "X"),
        Some("ha-1"),
    )
    .await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY);
}

// The one gap a stored response cannot close: the first attempt's replica commits the save and
// dies before it stores the key's response. The retry takes the key over and must answer with
// the version that attempt wrote, not fail its version check (412) nor save it again.
backend_matrix!(
    a_save_committed_by_a_dead_replica_is_answered,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let store = store_of(&px).await;
        let scope = "org:1:user:1";
        let created = post(
            &admin,
            "/api/dashboards/db",
            &serde_json::to_vec(&json!({"dashboard": {"uid": "idem-gap", "title": "Gap"}}))
                .unwrap(),
            None,
        )
        .await;
        assert_eq!(created.0, StatusCode::OK, "{}", created.2);
        let save = |counter: i64| {
            serde_json::to_vec(&json!({
            "dashboard": {"uid": "idem-gap", "title": "Gap", "version": counter, "counter": counter},
            "overwrite": false
        }))
        .unwrap()
        };
        for (key, counter, overwrite) in [("gap-1", 1, false), ("gap-2", 2, true)] {
            let mut body: Value = serde_json::from_slice(&save(counter)).unwrap();
            body["overwrite"] = json!(overwrite);
            let body = serde_json::to_vec(&body).unwrap();
            let fingerprint = pharos_server::idempotency::fingerprint(
                &axum::http::Method::POST,
                "/api/dashboards/db",
                &body,
            );
            // The dead replica's claim and its committed save, as it left them.
            store
                .claim_idempotency_key(
                    scope,
                    key,
                    &fingerprint,
                    "0123456789abcdef",
                    pharos_store::now_ms(),
                    60_000,
                )
                .await
                .unwrap();
            let dashboard =
                json!({"uid": "idem-gap", "title": "Gap", "version": counter, "counter": counter});
            let committed = store
                .save_dashboard(pharos_store::SaveDashboard {
                    org_id: 1,
                    dashboard: dashboard.as_object().unwrap().clone(),
                    folder_uid: None,
                    overwrite,
                    message: String::new(),
                    actor: "user:1".into(),
                    restored_from: 0,
                    request_key: Some(pharos_server::idempotency::RequestKey::new(scope, key).0),
                })
                .await
                .unwrap();
            assert_eq!(committed.version, counter + 1);

            let retry = post(&admin, "/api/dashboards/db", &body, Some(key)).await;
            assert_eq!(retry.0, StatusCode::OK, "{key}: {}", retry.2);
            let answer: Value = serde_json::from_str(&retry.2).unwrap();
            assert_eq!(answer["version"], json!(counter + 1), "{key}: {answer}");
            assert_eq!(answer["uid"], json!("idem-gap"));
            assert_eq!(
                version_count(&admin, "idem-gap").await,
                usize::try_from(counter + 1).unwrap(),
                "{key}: saved once"
            );
            let again = post(&admin, "/api/dashboards/db", &body, Some(key)).await;
            assert_eq!(again.1.as_deref(), Some("true"), "{key}: replayed after");
            assert_eq!(again.2, retry.2);
        }
        // Without a key nothing marks the save as this request's: the version check answers.
        let stale = post(&admin, "/api/dashboards/db", &save(1), None).await;
        assert_eq!(stale.0, StatusCode::PRECONDITION_FAILED, "{}", stale.2);
        // Another key for the same stale body is another request: the version check answers too.
        let other = post(&admin, "/api/dashboards/db", &save(1), Some("gap-other")).await;
        assert_eq!(other.0, StatusCode::PRECONDITION_FAILED, "{}", other.2);
        store.close().await;
    }
);

//! Replicas on one PostgreSQL database: starting together on an empty database, sharing sessions,
//! and sharing dashboards with optimistic concurrency. PostgreSQL only: SQLite is single-node.

use std::collections::BTreeMap;
use std::time::Duration;

use pharos_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The migration versions embedded in the binary, from the store's migration files.
fn expected_versions() -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/postgres");
    let mut versions: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.ends_with(".sql")
                .then(|| name.split('_').next()?.parse().ok())
                .flatten()
        })
        .collect();
    versions.sort();
    assert!(
        !versions.is_empty(),
        "no migrations found in {}",
        dir.display()
    );
    versions
}

fn logged(px: &Pharos, message: &str) -> bool {
    px.logs().iter().any(|line| {
        serde_json::from_str::<Value>(line).is_ok_and(|v| v["message"].as_str() == Some(message))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_start_together_on_an_empty_database_ten_times() {
    let expected = expected_versions();
    for round in 1..=10 {
        let db = Database::fresh(Backend::Postgres);
        let (a, b) = tokio::join!(
            Pharos::try_start(db.clone(), Options::default()),
            Pharos::try_start(db.clone(), Options::default()),
        );
        let a = a.unwrap_or_else(|e| panic!("round {round}, replica A: {e}"));
        let b = b.unwrap_or_else(|e| panic!("round {round}, replica B: {e}"));
        for (name, px) in [("A", &a), ("B", &b)] {
            let (s, body) = px.anonymous().get("/readyz").await;
            assert_eq!(s, StatusCode::OK, "round {round}, {name} not ready: {body}");
            let (s, body) = px.admin().get("/api/health").await;
            assert_eq!(s, StatusCode::OK, "round {round}, {name}: {body}");
            let errors = px.error_lines();
            assert!(
                errors.is_empty(),
                "round {round}, replica {name} logged errors:\n{}",
                errors.join("\n")
            );
        }

        // Every migration is recorded exactly once, and succeeded.
        let rows = psql_at(
            &db.url,
            "select version, count(*), bool_and(success) from _sqlx_migrations group by version order by version",
        );
        let mut seen = BTreeMap::new();
        for row in rows.lines() {
            let cols: Vec<&str> = row.split('|').collect();
            assert_eq!(cols[1], "1", "round {round}: version applied twice: {rows}");
            assert_eq!(cols[2], "t", "round {round}: a failed migration: {rows}");
            seen.insert(cols[0].parse::<i64>().unwrap(), ());
        }
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            expected,
            "round {round}: {rows}"
        );
        assert_eq!(
            psql_at(&db.url, "select count(*) from _sqlx_migrations"),
            expected.len().to_string()
        );
        // Exactly one admin, and exactly one default org.
        assert_eq!(
            psql_at(
                &db.url,
                "select count(*) from users where lower(login) = 'admin'"
            ),
            "1",
            "round {round}"
        );
        assert_eq!(psql_at(&db.url, "select count(*) from orgs"), "1");
        assert_eq!(
            psql_at(&db.url, "select count(*) from org_users"),
            "1",
            "round {round}: the admin's membership"
        );
        // Exactly one says it applied the schema; the other waited and found it current.
        let applied = [&a, &b]
            .iter()
            .filter(|px| logged(px, "applied database migrations"))
            .count();
        assert_eq!(
            applied, 1,
            "round {round}: replicas that applied the migrations"
        );
        let current = [&a, &b]
            .iter()
            .filter(|px| logged(px, "database schema is current"))
            .count();
        assert_eq!(
            current, 1,
            "round {round}: replicas that found the schema current"
        );

        // A session made on one is valid on the other.
        let token = login_token(&a, "admin", "admin").await;
        let (s, me) = by_cookie(&b, "/api/user", &token).await;
        assert_eq!(s, StatusCode::OK, "round {round}: {me}");
        assert_eq!(me["login"], "admin");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_are_shared_and_revoked_across_replicas() {
    let db = Database::fresh(Backend::Postgres);
    let a = Pharos::start_with(db.clone(), Options::default()).await;
    let b = Pharos::start_with(db.clone(), Options::default()).await;

    // A browser logs in through A and carries on through B.
    let browser = a.browser();
    let (s, body) = browser
        .post("/login", json!({"user": "admin", "password": "admin"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let on_b = browser.against(&b.url);
    let (s, me) = on_b.get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "admin");
    let (s, body) = on_b
        .post("/api/folders", json!({"title": "Made on B"}))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a cookie write through the other replica: {body}"
    );

    // Logout through one revokes it on the other at once, even for a replayed cookie.
    let token = login_token(&a, "admin", "admin").await;
    assert_eq!(by_cookie(&b, "/api/user", &token).await.0, StatusCode::OK);
    let (s, _, _) = with_cookie(&b, Method::GET, "/logout", &token).await;
    assert!(s.is_redirection() || s.is_success(), "{s}");
    let (s, body) = by_cookie(&a, "/api/user", &token).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "revoked on B, still valid on A: {body}"
    );
    assert_eq!(
        by_cookie(&b, "/api/user", &token).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The browser's own logout, through B, ends its session on A too.
    let (s, _) = on_b.get("/logout").await;
    assert!(s.is_redirection() || s.is_success(), "{s}");
    assert_eq!(browser.get("/api/user").await.0, StatusCode::UNAUTHORIZED);

    // A password change through one replica revokes sessions and the old password on the other.
    a.create_user("quinn").await;
    let token = login_token(&b, "quinn", "password1").await;
    assert_eq!(by_cookie(&a, "/api/user", &token).await.0, StatusCode::OK);
    // Warm B's password cache with the old password first.
    assert_eq!(
        b.basic("quinn", "password1").get("/api/user").await.0,
        StatusCode::OK
    );
    let (s, body) = a
        .basic("quinn", "password1")
        .put(
            "/api/user/password",
            json!({"oldPassword": "password1", "newPassword": "password2", "confirmNew": "password2"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        by_cookie(&b, "/api/user", &token).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Sessions are never cached: revoked at once (above). Verified basic-auth logins are cached per
    // cache generation, so the old password stops working on B when the change feed brings A's
    // write (one NOTIFY round trip), like a revoked token.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let s = b.basic("quinn", "password1").get("/api/user").await.0;
        if s == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old password still works on B after 2 s ({s})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        b.basic("quinn", "password2").get("/api/user").await.0,
        StatusCode::OK
    );

    // Rotation on one replica is honoured by the other.
    drop(a);
    drop(b);
    let opts = Options::default().env("PHAROS_AUTH_SESSION_ROTATION_INTERVAL", "1s");
    let a = Pharos::start_with(db.clone(), opts.clone()).await;
    let b = Pharos::start_with(db.clone(), opts).await;
    let browser = a.browser();
    browser
        .post("/login", json!({"user": "admin", "password": "admin"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    for i in 0..4 {
        let client = if i % 2 == 0 {
            browser.against(&a.url)
        } else {
            browser.against(&b.url)
        };
        let (s, body) = client.get("/api/user").await;
        assert_eq!(s, StatusCode::OK, "request {i} after rotation: {body}");
    }
    assert_eq!(
        psql_at(
            &db.url,
            "select count(*) from user_sessions where user_id = 1"
        ),
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dashboards_are_shared_and_concurrent_saves_conflict() {
    let db = Database::fresh(Backend::Postgres);
    let (a, b) = tokio::join!(
        Pharos::start_with(db.clone(), Options::default()),
        Pharos::start_with(db.clone(), Options::default()),
    );
    let (ca, cb) = (a.admin(), b.admin());

    let (s, saved) = ca
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Shared", "uid": "shared", "panels": [{"id": 1, "type": "graph"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(saved["version"], 1);
    let (s, got) = cb.get("/api/dashboards/uid/shared").await;
    assert_eq!(s, StatusCode::OK, "saved on A, read on B: {got}");
    assert_eq!(got["dashboard"]["title"], "Shared");
    assert_eq!(got["dashboard"]["panels"][0]["type"], "graph");
    let (_, hits) = cb.get("/api/search?query=Shared").await;
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");

    // An update through B is what A serves next.
    let (s, saved) = cb
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Shared", "uid": "shared", "version": 1, "panels": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let (_, got) = ca.get("/api/dashboards/uid/shared").await;
    assert_eq!(got["dashboard"]["version"], 2, "{got}");
    assert_eq!(got["dashboard"]["panels"], json!([]));

    // The same version saved through both at once: exactly one wins, the other gets 412.
    let mut version = 2;
    for round in 0..8 {
        let body = |who: &str| {
            json!({"dashboard": {"title": "Shared", "uid": "shared", "version": version,
                                 "description": format!("{who} {round}")}})
        };
        let ((sa, ba), (sb, bb)) = tokio::join!(
            ca.post("/api/dashboards/db", body("A")),
            cb.post("/api/dashboards/db", body("B")),
        );
        let mut statuses = [sa.as_u16(), sb.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 412],
            "round {round}: A {sa} {ba}, B {sb} {bb}"
        );
        let (winner, loser) = if sa == StatusCode::OK {
            ("A", &bb)
        } else {
            ("B", &ba)
        };
        assert_eq!(loser["status"], "version-mismatch", "{loser}");
        assert!(loser["message"].is_string());
        version += 1;
        for client in [&ca, &cb] {
            let (_, got) = client.get("/api/dashboards/uid/shared").await;
            assert_eq!(got["dashboard"]["version"], version, "{got}");
            assert_eq!(
                got["dashboard"]["description"],
                format!("{winner} {round}"),
                "round {round}: the loser's write must not land"
            );
        }
    }
    let (_, versions) = ca.get("/api/dashboards/uid/shared/versions").await;
    let listed = versions
        .as_array()
        .or_else(|| versions["versions"].as_array())
        .map(|v| v.len())
        .unwrap_or(0);
    assert_eq!(
        listed as i64, version,
        "one version per successful save: {versions}"
    );

    // Creating the same new uid through both at once: one creates, the other is refused.
    let new = |who: &str| json!({"dashboard": {"title": format!("Race {who}"), "uid": "race"}});
    let ((sa, ba), (sb, bb)) = tokio::join!(
        ca.post("/api/dashboards/db", new("A")),
        cb.post("/api/dashboards/db", new("B")),
    );
    let ok = [sa, sb].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "A {sa} {ba}, B {sb} {bb}");
    assert!(
        !sa.is_server_error() && !sb.is_server_error(),
        "A {sa} {ba}, B {sb} {bb}"
    );
    assert_eq!(
        psql_at(
            &db.url,
            "select count(*) from dashboards where uid = 'race'"
        ),
        "1"
    );
}

/// Reads are cached per replica; a write through one replica must reach the other's cache through
/// the change feed (LISTEN/NOTIFY on PostgreSQL), not linger.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cached_reads_follow_writes_made_on_another_replica() {
    let db = Database::fresh(Backend::Postgres);
    let a = Pharos::start_with(db.clone(), Options::default()).await;
    let b = Pharos::start_with(db.clone(), Options::default()).await;

    // A token and a dashboard, read through B until B has them cached.
    let (sa_id, _, key) = create_token(&a, "reader", "Viewer", None).await;
    let reader_b = b.bearer(&key);
    let (s, saved) = a
        .admin()
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Cached", "tags": ["one"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let uid = saved["uid"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let (s, d) = reader_b.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["dashboard"]["version"], 1);
        let (s, hits) = reader_b.get("/api/search?query=Cached").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hits[0]["tags"], json!(["one"]));
    }

    // Update through A: B must serve the new version and the new tags within a second.
    let (s, v2) = a
        .admin()
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Cached", "uid": uid, "version": 1, "tags": ["two"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v2}");
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (_, d) = reader_b.get(&format!("/api/dashboards/uid/{uid}")).await;
        let (_, hits) = reader_b.get("/api/search?query=Cached").await;
        if d["dashboard"]["version"] == 2 && hits[0]["tags"] == json!(["two"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replica B still serves version {} and tags {} 2 s after the write",
            d["dashboard"]["version"],
            hits[0]["tags"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Deleting the token through A revokes it on B within a second.
    let (s, list) = a
        .admin()
        .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let token_id = list[0]["id"].as_i64().unwrap();
    let (s, _) = a
        .admin()
        .delete(&format!("/api/serviceaccounts/{sa_id}/tokens/{token_id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (s, _) = reader_b.get("/api/search").await;
        if s == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a deleted token still works on B after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it holds; fails after one second (the bound the change feed promises).
async fn within_a_second<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "replica B did not see it within 1 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// Each kind of write another replica caches, made through A and read through B (warmed first,
/// so B answers from its cache until the change feed moves it on): a folder rename (search
/// results), a star (the dashboard answer's meta), an org role change and a user deletion (the
/// cached basic-auth identity), a disabled service account (the cached token identity), a
/// datasource deletion (the per-org datasource cache behind queries) and a folder deletion (the
/// dashboard cache). Only reads go through B, since a write through B would clear its caches by
/// itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_cached_kind_follows_writes_made_on_another_replica() {
    let db = Database::fresh(Backend::Postgres);
    let a = Pharos::start_with(db.clone(), Options::default()).await;
    let b = Pharos::start_with(db.clone(), Options::default()).await;
    let admin_a = a.admin();
    let mut took = Vec::new();

    // Set-up, all through A.
    let (s, folder) = admin_a
        .post("/api/folders", json!({"uid": "ops", "title": "Ops"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{folder}");
    let (s, saved) = admin_a
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"uid": "net", "title": "Net"}, "folderUid": "ops"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let uid_quinn = a.create_user("quinn").await;
    let (s, ds) = admin_a
        .post(
            "/api/datasources",
            json!({"name": "td", "uid": "td", "type": "testdata"}),
        )
        .await;
    assert!(s.is_success(), "{ds}");
    let (sa_id, _, key) = create_token(&a, "robot", "Viewer", None).await;
    // Let B's feed report the set-up before warming its caches.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let quinn_a = a.basic("quinn", "password1");
    let quinn_b = b.basic("quinn", "password1");
    let robot_b = b.bearer(&key);
    let query = json!({
        "from": "now-1h", "to": "now",
        "queries": [{"refId": "A", "datasource": {"uid": "td"}, "scenarioId": "random_walk"}],
    });
    let folder_title_on_b = || async {
        let (_, hits) = robot_b.get("/api/search?query=Net").await;
        hits[0]["folderTitle"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let starred_on_b = || async {
        let (_, d) = quinn_b.get("/api/dashboards/uid/net").await;
        d["meta"]["isStarred"] == true
    };
    // Warm B: each read twice.
    for _ in 0..2 {
        assert_eq!(folder_title_on_b().await, "Ops");
        assert!(!starred_on_b().await);
        assert_eq!(
            quinn_b.get("/api/org/users").await.0,
            StatusCode::FORBIDDEN,
            "a Viewer"
        );
        let (s, body) = robot_b.post("/api/ds/query", query.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }

    // A folder rename reaches B's cached search results.
    let (s, body) = admin_a
        .put(
            "/api/folders/ops",
            json!({"title": "Operations", "version": folder["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("folder rename in search", || async {
            folder_title_on_b().await == "Operations"
        })
        .await,
    );

    // A star made through A shows in B's cached dashboard answer.
    let (s, body) = quinn_a
        .post("/api/user/stars/dashboard/uid/net", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(within_a_second("a star", starred_on_b).await);

    // A role change reaches B's cached basic-auth identity.
    let (s, body) = admin_a
        .patch(
            &format!("/api/org/users/{uid_quinn}"),
            json!({"role": "Admin"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("a role change", || async {
            quinn_b.get("/api/org/users").await.0 == StatusCode::OK
        })
        .await,
    );

    // A datasource deleted through A is gone from B's cached datasources.
    let (s, body) = admin_a.delete("/api/datasources/uid/td").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("a datasource deletion", || async {
            robot_b.post("/api/ds/query", query.clone()).await.0 != StatusCode::OK
        })
        .await,
    );

    // A folder deleted through A takes its dashboard with it on B.
    let (s, body) = admin_a.delete("/api/folders/ops").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("a folder deletion", || async {
            robot_b.get("/api/dashboards/uid/net").await.0 == StatusCode::NOT_FOUND
        })
        .await,
    );

    // A service account disabled through A: its token stops working on B.
    let (s, body) = admin_a
        .patch(
            &format!("/api/serviceaccounts/{sa_id}"),
            json!({"isDisabled": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("a disabled service account", || async {
            robot_b.get("/api/search").await.0 == StatusCode::UNAUTHORIZED
        })
        .await,
    );

    // A user deleted through A can no longer sign in on B.
    let (s, body) = admin_a
        .delete(&format!("/api/admin/users/{uid_quinn}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    took.push(
        within_a_second("a deleted user", || async {
            quinn_b.get("/api/user").await.0 == StatusCode::UNAUTHORIZED
        })
        .await,
    );
    println!("write on A seen on B after: {took:?}");
}

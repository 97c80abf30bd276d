//! A database outage, staged with a TCP proxy between one replica and the shared PostgreSQL
//! server (which other tests use, so it is never stopped): the replica stays up, reports the
//! outage on `/readyz` and `/api/health`, answers writes with 503 and a JSON message (never 500),
//! keeps answering cached reads, and recovers by itself once the database is reachable again.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use pharos_testkit::tcp_proxy::TcpProxy;
use pharos_testkit::{
    create_token, json, postgres_server_url, save_ok, Backend, Database, Options, Pharos,
};
use reqwest::StatusCode;

const UNAVAILABLE: &str = "The database is unavailable; try again shortly";

/// A series' value in `/metrics` (the line starting with `series` and a space).
async fn metric(px: &Pharos, series: &str) -> Option<f64> {
    let (_, text) = px.anonymous().get("/metrics").await;
    let prefix = format!("{series} ");
    text.as_str()
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Waits until `series` reads `want` (asking `/metrics` only, which never touches the database).
async fn metric_becomes(px: &Pharos, series: &str, want: f64, timeout: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let got = metric(px, series).await;
        if got == Some(want) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "{series} is {got:?}, not {want}, after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `postgres://user@host:port/db` → (the host:port, the URL with it replaced by `via`).
fn through(url: &str, via: &str) -> (SocketAddr, String) {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let target = host_port
        .to_socket_addrs()
        .expect("database address")
        .next()
        .expect("database address");
    let at = if user.is_empty() { "" } else { "@" };
    (target, format!("{scheme}://{user}{at}{via}/{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_rides_out_a_database_outage() {
    let db = Database::fresh(Backend::Postgres);
    assert!(db.url.starts_with(&postgres_server_url()));
    let (target, _) = through(&db.url, "unused");
    let proxy = TcpProxy::start(target).await;
    let (_, proxied_url) = through(&db.url, &format!("127.0.0.1:{}", proxy.port));
    // The periodic database check runs every heartbeat interval.
    let px = Pharos::start_with(
        db,
        Options::default()
            .env("PHAROS_DATABASE_URL", &proxied_url)
            .env("PHAROS_CLUSTER_HEARTBEAT_INTERVAL", "500ms"),
    )
    .await;
    metric_becomes(&px, "pharos_database_up", 1.0, Duration::from_secs(2)).await;
    let (_, _, token) = create_token(&px, "writer", "Editor", None).await;
    let editor = px.bearer(&token);
    save_ok(
        &editor,
        json!({"dashboard": {"uid": "kept", "title": "Kept"}}),
    )
    .await;
    // Let the change feed report the writes above (it moves the cache generation on), then read
    // once so the dashboard and the token are cached.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = editor.get("/api/dashboards/uid/kept").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let applied = metric(&px, "pharos_changes_applied_total").await;
    assert!(
        applied.is_some_and(|n| n >= 2.0),
        "the feed reported the token and the dashboard: {applied:?}"
    );

    proxy.down();
    let outage = Instant::now();
    // The gauge turns 0 by the periodic check alone (nothing has probed the replica yet).
    let took = metric_becomes(&px, "pharos_database_up", 0.0, Duration::from_secs(4)).await;
    println!("pharos_database_up turned 0 {took:?} into the outage");

    // Writes: 503 with a message, never 500, and no longer than the pool's acquire timeout.
    for (client, what) in [(&editor, "token"), (&px.admin(), "basic auth")] {
        let started = Instant::now();
        let (status, body) = client.post("/api/folders", json!({"title": "Down"})).await;
        let took = started.elapsed();
        println!("a write ({what}) during the outage: {status} in {took:?}");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert_eq!(body["message"], UNAVAILABLE, "{what}");
        assert!(took < Duration::from_secs(4), "{what}: took {took:?}");
    }
    let (status, body) = editor
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"uid": "new", "title": "New"}}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["message"], UNAVAILABLE);

    // Health reports it; the process stays up.
    let (status, body) = px.anonymous().get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = px.anonymous().get("/api/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["database"], "failing");
    assert_eq!(px.anonymous().get("/livez").await.0, StatusCode::OK);

    // A dashboard read before the outage is still served from the read cache.
    let (status, body) = editor.get("/api/dashboards/uid/kept").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dashboard"]["title"], "Kept");
    println!("outage staged for {:?}", outage.elapsed());

    // The database returns: the replica recovers by itself.
    proxy.up().await;
    let back = Instant::now();
    loop {
        let (status, body) = editor.post("/api/folders", json!({"title": "Back"})).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "writes still fail {:?} after the database returned: {body}",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "writes succeed again {:?} after the database returned",
        back.elapsed()
    );
    // The periodic check brings the gauge back without a probe.
    metric_becomes(&px, "pharos_database_up", 1.0, Duration::from_secs(3)).await;
    let (status, body) = px.anonymous().get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logs = px.logs().join("\n");
    assert!(!logs.contains("\"level\":\"ERROR\""), "{logs}");
}

//! Graceful drain on SIGTERM, against the real binary (signals need a real process): `/readyz`
//! turns 503 at once while everything else keeps answering for `server.drain_period`; then the
//! replica stops accepting, lets in-flight requests finish for up to `server.shutdown_timeout`,
//! and exits 0.

use std::time::{Duration, Instant};

use pharos_testkit::{json, Backend, Database, Options, Pharos};
use reqwest::StatusCode;

/// An upstream that answers every request with Prometheus' label list after `delay`.
async fn slow_upstream(delay: Duration) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        axum::Json(serde_json::json!({"status": "success", "data": ["job"]}))
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

async fn start(drain_period: &str, shutdown_timeout: &str) -> Pharos {
    Pharos::start_with(
        Database::fresh(Backend::Sqlite),
        Options::default()
            .env("PHAROS_SERVER_DRAIN_PERIOD", drain_period)
            .env("PHAROS_SERVER_SHUTDOWN_TIMEOUT", shutdown_timeout),
    )
    .await
}

/// Points datasource `slow` at an upstream that takes `delay` to answer.
async fn slow_datasource(px: &Pharos, delay: Duration) -> tokio::task::JoinHandle<()> {
    let (url, task) = slow_upstream(delay).await;
    let (status, body) = px
        .admin()
        .post(
            "/api/datasources",
            json!({"name": "Slow", "uid": "slow", "type": "prometheus", "url": url, "access": "proxy"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    task
}

/// Starts the slow request (through the datasource proxy): its status and body, or the error of
/// a connection the server cut.
fn slow_request(
    px: &Pharos,
) -> tokio::task::JoinHandle<Result<(StatusCode, serde_json::Value), reqwest::Error>> {
    let request = px.admin().request(
        reqwest::Method::GET,
        "/api/datasources/proxy/uid/slow/api/v1/labels",
    );
    tokio::spawn(async move {
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await?))
    })
}

fn signal(px: &Pharos, sig: &str) {
    let pid = px.pid().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Polls `/readyz` until it answers 503; returns how long that took.
async fn until_not_ready(px: &Pharos, limit: Duration) -> Duration {
    let started = Instant::now();
    let anonymous = px.anonymous();
    loop {
        let (status, _) = anonymous.get("/readyz").await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "/readyz still {status} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_drains_then_finishes_in_flight_requests_and_exits_0() {
    let drain = Duration::from_millis(1500);
    let mut px = start("1500ms", "10s").await;
    let _upstream = slow_datasource(&px, Duration::from_millis(2500)).await;
    let admin = px.admin();
    assert_eq!(px.anonymous().get("/readyz").await.0, StatusCode::OK);

    let slow = slow_request(&px);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    signal(&px, "-TERM");

    let took = until_not_ready(&px, Duration::from_millis(100)).await;
    println!("/readyz answered 503 {took:?} after SIGTERM");

    // Still serving normally during the drain period.
    let (status, body) = px.anonymous().get("/api/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin.get("/api/search").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .post("/api/folders", json!({"title": "Drained"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        signalled.elapsed() < drain,
        "the checks took the whole drain period"
    );
    // And still near its end.
    let near_end = signalled + drain - Duration::from_millis(300);
    tokio::time::sleep(near_end.saturating_duration_since(Instant::now())).await;
    let (status, body) = px.anonymous().get("/api/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin.get("/api/folders").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(signalled.elapsed() < drain);

    // The slow request (in flight past the drain period) still finishes.
    let (status, body) = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!(["job"]));
    assert!(signalled.elapsed() > drain);

    let status = px
        .wait_exit(drain + Duration::from_secs(5))
        .await
        .expect("exits after the drain and the in-flight request");
    let exited = signalled.elapsed();
    println!("exited {exited:?} after SIGTERM (drain period {drain:?})");
    assert!(status.success(), "{status:?}");
    assert!(exited >= drain, "exited before the drain period ended");
    assert!(
        exited < drain + Duration::from_secs(3),
        "took {exited:?} to exit"
    );
    let logs = px.logs().join("\n");
    assert!(logs.contains("draining"), "{logs}");
    assert!(logs.contains("stopped accepting connections"), "{logs}");
    assert!(!logs.contains("abandoning"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_request_does_not_outlive_the_shutdown_timeout() {
    let mut px = start("100ms", "300ms").await;
    let _upstream = slow_datasource(&px, Duration::from_secs(60)).await;
    let hanging = slow_request(&px);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    signal(&px, "-TERM");
    let status = px
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("exits although a request still hangs");
    let exited = signalled.elapsed();
    println!("exited {exited:?} after SIGTERM with a hanging request");
    assert!(status.success(), "{status:?}");
    assert!(exited < Duration::from_secs(3), "took {exited:?}");
    let logs = px.logs().join("\n");
    assert!(logs.contains("abandoning 1 in-flight request(s)"), "{logs}");
    // Its connection was cut, not answered.
    assert!(hanging.await.unwrap().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_signal_skips_the_rest_of_the_drain_period() {
    let mut px = start("60s", "5s").await;
    signal(&px, "-TERM");
    until_not_ready(&px, Duration::from_secs(2)).await;
    let second = Instant::now();
    signal(&px, "-INT");
    let status = px
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits soon after the second signal");
    println!("exited {:?} after the second signal", second.elapsed());
    assert!(status.success(), "{status:?}");
    assert!(second.elapsed() < Duration::from_secs(3));
    let logs = px.logs().join("\n");
    assert!(logs.contains("second signal"), "{logs}");
}

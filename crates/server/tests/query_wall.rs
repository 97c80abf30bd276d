//! A "wall of screens": many viewers of one dashboard cost Prometheus what one viewer costs. Its
//! own test binary, because its load (hundreds of requests a second for a minute) would starve
//! the scrapes other query tests rely on if they ran beside it.

use std::time::{Duration, Instant};

use pharos_testkit::json;
use pharos_testkit::prometheus::{ds_query, step_of, Stack};
use pharos_testkit::reqwest::StatusCode;
use serde_json::Value;

/// 200 simulated viewers of one 10-panel dashboard, each refreshing `now-1h..now` every 5 s at its
/// own offset, for 60 s: the upstream queries counted at Prometheus stay within what one viewer
/// costs (10 panels × 60 s / step + 10).
#[tokio::test]
async fn a_wall_of_screens_costs_what_one_viewer_costs() {
    let st = Stack::start(&[]).await;
    let admin = st.pharos.admin();
    let panels: Vec<Value> = [
        "up",
        "node_load1",
        "node_load5",
        "rate(node_cpu_seconds_total[$__rate_interval])",
        "node_memory_MemAvailable_bytes",
        "rate(node_network_receive_bytes_total[$__rate_interval])",
        "node_filesystem_avail_bytes",
        "scrape_duration_seconds",
        "sum(rate(pharos_http_requests_total[$__rate_interval]))",
        "process_resident_memory_bytes",
    ]
    .iter()
    .map(|expr| {
        json!([{"refId": "A", "datasource": {"type": "prometheus", "uid": "prom"}, "expr": expr,
                "intervalMs": 15000, "maxDataPoints": 240}])
    })
    .collect();
    let before = st.prom.requests_served("/api/v1/query_range").await;
    let viewers = 200;
    let duration = Duration::from_secs(60);
    let refresh = Duration::from_secs(5);
    let started = Instant::now();
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for viewer in 0..viewers {
        let admin = admin.clone();
        let panels = panels.clone();
        let errors = errors.clone();
        let sent = sent.clone();
        // Each viewer starts at its own offset within the refresh period.
        let offset = refresh.mul_f64((viewer as f64 * 0.618_034) % 1.0);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            while started.elapsed() < duration {
                let tick = Instant::now();
                let loads = panels.iter().map(|q| {
                    let admin = admin.clone();
                    let q = q.clone();
                    async move { ds_query(&admin, json!("now-1h"), json!("now"), q).await }
                });
                for (s, body) in futures_util::future::join_all(loads).await {
                    sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if s != StatusCode::OK {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        eprintln!("{s}: {body}");
                    }
                }
                tokio::time::sleep(refresh.saturating_sub(tick.elapsed())).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let upstream = st.prom.requests_served("/api/v1/query_range").await - before;

    // The step for 1 h at 240 points is 15 s (Grafana's rounding); one viewer costs 10 panels ×
    // (60 s / 15 s) + one extra per panel for the window it started in.
    let (_, probe) = ds_query(&admin, json!("now-1h"), json!("now"), panels[0].clone()).await;
    let step_s = step_of(&probe["results"]["A"]) / 1000;
    let one_viewer_bound = 10.0 * (duration.as_secs_f64() / step_s as f64) + 10.0;
    println!(
        "wall of screens: {viewers} viewers x 10 panels every {}s for {:.0}s: {} panel requests to Pharos, {upstream} query_range requests at Prometheus (one viewer's bound: {one_viewer_bound}, step {step_s}s)",
        refresh.as_secs(),
        elapsed.as_secs_f64(),
        sent.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert_eq!(errors.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert!(
        upstream <= one_viewer_bound,
        "{upstream} upstream requests for {viewers} viewers, more than one viewer's {one_viewer_bound}"
    );
}

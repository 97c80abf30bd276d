//! The latency `/api/ds/query` adds over asking Prometheus directly, for the same query over the
//! same range and step (10 series × 1,000 points), with the result cache skipped
//! (`Cache-Control: no-cache`) so every Pharos request really goes to Prometheus. Starts its own
//! node exporter, Prometheus and Pharos (release build); prints p50/p99 of both and the difference.
//!
//! `cargo bench -p pharos-server --bench ds_query` (or bench/ds_query.sh).

use std::time::{Duration, Instant};

use pharos_testkit::prometheus::{NodeExporter, Prometheus, Target};
use pharos_testkit::{json, Backend, Pharos};

const ROUNDS: usize = 400;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let node = NodeExporter::start().await;
    let prom = Prometheus::start(
        &[Target {
            job: "node".into(),
            addresses: vec![node.address.clone()],
        }],
        Duration::from_secs(1),
    )
    .await;
    let pharos = Pharos::start(Backend::Sqlite).await;
    let admin = pharos.admin();
    let (s, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "uid": "prom", "type": "prometheus", "access": "proxy",
                   "url": prom.url, "jsonData": {"timeInterval": "1s"}}),
        )
        .await;
    assert!(s.is_success(), "{body}");

    // Ten series that exist at every step without any stored data.
    let expr = (0..10)
        .map(|i| format!("label_replace(vector(time()), \"series\", \"{i}\", \"\", \"\")"))
        .collect::<Vec<_>>()
        .join(" or ");
    compare(&prom.url, &admin, &expr, 999, (10, 1000)).await;
    // One series, one point: the fixed cost of a request, without the per-point work.
    compare(&prom.url, &admin, "vector(1)", 0, (1, 1)).await;
}

/// Asks the same query directly and through Pharos, alternating, and prints the percentiles.
async fn compare(
    prom_url: &str,
    admin: &pharos_testkit::Client,
    expr: &str,
    range_s: i64,
    shape: (usize, usize),
) {
    let expr = expr.to_string();
    let end_s = 1_700_000_000i64;
    let start_s = end_s - range_s;
    let http = reqwest::Client::new();
    let direct = || {
        http.post(format!("{prom_url}/api/v1/query_range")).form(&[
            ("query", expr.clone()),
            ("start", start_s.to_string()),
            ("end", end_s.to_string()),
            ("step", "1".to_string()),
        ])
    };
    let request = json!({
        "from": (start_s * 1000).to_string(), "to": (end_s * 1000).to_string(),
        "queries": [{"refId": "A", "datasource": {"uid": "prom"}, "expr": expr,
                     "intervalMs": 1000, "maxDataPoints": 1000}]
    });
    let through_pharos = || {
        admin
            .request(reqwest::Method::POST, "/api/ds/query")
            .header("cache-control", "no-cache")
            .json(&request)
    };

    // Check the shape once: 10 frames × 1,000 points.
    let answer: serde_json::Value = through_pharos().send().await.unwrap().json().await.unwrap();
    let frames = answer["results"]["A"]["frames"].as_array().expect("frames");
    let points = frames[0]["data"]["values"][0].as_array().unwrap().len();
    assert_eq!((frames.len(), points), shape, "{answer:#}");

    let mut direct_times = Vec::with_capacity(ROUNDS);
    let mut pharos_times = Vec::with_capacity(ROUNDS);
    let (mut direct_bytes, mut pharos_bytes) = (0, 0);
    for round in 0..ROUNDS + 20 {
        let t = Instant::now();
        let body = direct().send().await.unwrap().bytes().await.unwrap();
        let d = t.elapsed();
        direct_bytes = body.len();
        let t = Instant::now();
        let resp = through_pharos().send().await.unwrap();
        assert!(resp.status().is_success());
        let body = resp.bytes().await.unwrap();
        let p = t.elapsed();
        pharos_bytes = body.len();
        if round >= 20 {
            direct_times.push(d);
            pharos_times.push(p);
        }
    }
    direct_times.sort();
    pharos_times.sort();
    let (d50, d99) = (
        percentile(&direct_times, 0.5),
        percentile(&direct_times, 0.99),
    );
    let (p50, p99) = (
        percentile(&pharos_times, 0.5),
        percentile(&pharos_times, 0.99),
    );
    println!(
        "query_range {} series x {} points, {ROUNDS} rounds, sequential, keep-alive",
        shape.0, shape.1
    );
    println!(
        "  direct to Prometheus:  p50 {:.2} ms  p99 {:.2} ms  ({direct_bytes} bytes)",
        ms(d50),
        ms(d99)
    );
    println!(
        "  through /api/ds/query: p50 {:.2} ms  p99 {:.2} ms  ({pharos_bytes} bytes)",
        ms(p50),
        ms(p99)
    );
    let (_, metrics) = admin.get("/metrics").await;
    let metric = |name: &str| -> f64 {
        metrics
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(name) && l.contains("outcome=\"ok\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let (sum, count) = (
        metric("pharos_query_upstream_duration_seconds_sum"),
        metric("pharos_query_upstream_duration_seconds_count"),
    );
    println!(
        "  Pharos' view of the upstream call (request, answer, decoding), mean over all runs so far: {:.2} ms",
        sum / count.max(1.0) * 1e3
    );
    println!(
        "  added by Pharos:       p50 {:.2} ms  p99 {:.2} ms  (target for 10 x 1000: <= 1 ms at p50)",
        ms(p50) - ms(d50),
        ms(p99) - ms(d99)
    );
}

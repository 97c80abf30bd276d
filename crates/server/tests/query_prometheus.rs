//! `/api/ds/query` against a real Prometheus scraping a real node exporter and Pharos' own
//! `/metrics`: values equal Prometheus' own answers, identical queries share one upstream request
//! (counted at Prometheus), a wall of screens costs what one viewer costs, and bad input fails
//! per query with the right status.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pharos_testkit::prometheus::{NodeExporter, Prometheus, Target};
use pharos_testkit::reqwest::StatusCode;
use pharos_testkit::{json, Backend, Client, Database, Options, Pharos};
use serde_json::Value;

struct Stack {
    // Dropped in reverse: Pharos first, then its peers.
    prom: Prometheus,
    pharos: Pharos,
    _node: NodeExporter,
}

/// Node exporter, Pharos (with `env`) and a Prometheus scraping both every second, and a default
/// Prometheus datasource `prom` in Pharos.
async fn stack(env: &[(&str, &str)]) -> Stack {
    let node = NodeExporter::start().await;
    let mut options = Options::default();
    for (k, v) in env {
        options = options.env(k, v);
    }
    let pharos = Pharos::start_with(Database::fresh(Backend::Sqlite), options).await;
    let prom = Prometheus::start(
        &[
            Target {
                job: "node".into(),
                addresses: vec![node.address.clone()],
            },
            Target {
                job: "pharos".into(),
                addresses: vec![pharos.url.trim_start_matches("http://").to_string()],
            },
        ],
        Duration::from_secs(1),
    )
    .await;
    let (s, body) = pharos
        .admin()
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "uid": "prom", "type": "prometheus", "access": "proxy",
                   "url": prom.url, "isDefault": true, "jsonData": {"timeInterval": "1s"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    Stack {
        prom,
        pharos,
        _node: node,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn ds_query(client: &Client, from: Value, to: Value, queries: Value) -> (StatusCode, Value) {
    client
        .post(
            "/api/ds/query",
            json!({"from": from, "to": to, "queries": queries}),
        )
        .await
}

type Series = BTreeMap<BTreeMap<String, String>, Vec<(i64, Option<f64>)>>;

/// A result's frames as series keyed by labels; null (NaN, ±Inf) as None.
fn series_of(result: &Value) -> Series {
    let mut out = Series::new();
    for frame in result["frames"].as_array().expect("frames") {
        let fields = frame["schema"]["fields"].as_array().unwrap();
        assert_eq!(fields[0]["type"], "time", "{frame}");
        let labels: BTreeMap<String, String> =
            serde_json::from_value(fields[1]["labels"].clone()).unwrap_or_default();
        let times = frame["data"]["values"][0].as_array().unwrap();
        let values = frame["data"]["values"][1].as_array().unwrap();
        let points = times
            .iter()
            .zip(values)
            .map(|(t, v)| (t.as_i64().unwrap(), v.as_f64()))
            .collect();
        out.insert(labels, points);
    }
    out
}

fn series_of_prometheus(answer: &Value) -> Series {
    assert_eq!(answer["status"], "success", "{answer}");
    let mut out = Series::new();
    for s in answer["data"]["result"].as_array().unwrap() {
        let labels = serde_json::from_value(s["metric"].clone()).unwrap();
        let points = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    (p[0].as_f64().unwrap() * 1000.0).round() as i64,
                    p[1].as_str()
                        .unwrap()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite()),
                )
            })
            .collect();
        out.insert(labels, points);
    }
    out
}

fn step_of(result: &Value) -> i64 {
    result["frames"][0]["schema"]["fields"][0]["config"]["interval"]
        .as_i64()
        .unwrap_or_else(|| panic!("no step in {result}"))
}

#[tokio::test]
async fn values_equal_prometheus_and_identical_queries_share_one_request() {
    // Ranges that ended 5 s ago count as settled, so the test needs little history.
    let st = stack(&[("PHAROS_QUERY_CACHE_TOLERANCE", "5s")]).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let admin = st.pharos.admin();
    let to = now_ms() - 1500;
    let from = to - 5_000;
    let cases = [
        json!({"expr": "up", "intervalMs": 1000, "maxDataPoints": 1000}),
        json!({"expr": "node_cpu_seconds_total", "intervalMs": 1000, "maxDataPoints": 1000}),
        json!({"expr": "rate(node_cpu_seconds_total{mode=\"idle\"}[$__rate_interval])", "intervalMs": 1000, "maxDataPoints": 1000}),
        json!({"expr": "sum by (route) (pharos_http_requests_total)", "intervalMs": 1000}),
        json!({"expr": "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "interval": "2s"}),
        json!({"expr": "scrape_duration_seconds", "maxDataPoints": 2, "legendFormat": "{{job}} {{instance}}"}),
        json!({"expr": "0/0 + up", "intervalMs": 1000}),
    ];
    let mut values = 0;
    for (i, case) in cases.iter().enumerate() {
        let mut q = case.clone();
        q["refId"] = json!("A");
        q["datasource"] = json!({"type": "prometheus", "uid": "prom"});
        let (s, body) = ds_query(&admin, json!(from.to_string()), json!(to), json!([q])).await;
        assert_eq!(s, StatusCode::OK, "case {i} {case}: {body}");
        let result = &body["results"]["A"];
        assert_eq!(result["status"], 200, "{result}");
        let step = step_of(result);
        let executed = result["frames"][0]["schema"]["meta"]["executedQueryString"]
            .as_str()
            .unwrap();
        let expr = executed
            .strip_prefix("Expr: ")
            .and_then(|e| e.split("\nStep: ").next())
            .unwrap();
        let sec = |ms: i64| format!("{}.{:03}", ms / 1000, ms % 1000);
        let expected = series_of_prometheus(
            &st.prom
                .api(
                    "query_range",
                    &[
                        ("query", expr.to_string()),
                        ("start", sec(from - from % step)),
                        ("end", sec(to - to % step)),
                        ("step", sec(step)),
                    ],
                )
                .await,
        );
        let got = series_of(result);
        assert_eq!(got, expected, "case {i} {case}");
        values += expected.values().map(Vec::len).sum::<usize>();
        if let Some(legend) = case["legendFormat"].as_str() {
            let frame = &result["frames"][0];
            let labels = &frame["schema"]["fields"][1]["labels"];
            let want = legend
                .replace("{{job}}", labels["job"].as_str().unwrap())
                .replace("{{instance}}", labels["instance"].as_str().unwrap());
            assert_eq!(
                frame["schema"]["fields"][1]["config"]["displayNameFromDS"],
                json!(want)
            );
        }
    }
    println!("compared {values} values through /api/ds/query with Prometheus' own answers");
    assert!(values > 100, "too few values compared: {values}");

    // 100 concurrent identical requests for a query nobody asked yet: one upstream request (they
    // share the request in flight, and the settled result afterwards).
    let before = st.prom.requests_served("/api/v1/query_range").await;
    let q = json!([{"refId": "A", "datasource": {"uid": "prom"}, "expr": "up * 100", "intervalMs": 1000}]);
    let (from, to) = (now_ms() - 12_000, now_ms() - 6_000);
    let requests = (0..100).map(|_| {
        let admin = admin.clone();
        let q = q.clone();
        async move { ds_query(&admin, json!(from), json!(to), q).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    let first = &answers[0].1;
    for (s, body) in &answers {
        assert_eq!(*s, StatusCode::OK, "{body}");
        assert_eq!(body, first);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let upstream = st.prom.requests_served("/api/v1/query_range").await - before;
    println!("100 concurrent identical /api/ds/query requests -> {upstream} query_range requests at Prometheus");
    assert_eq!(upstream, 1.0);

    // Cache-Control: no-cache asks again.
    let rb = admin
        .request(pharos_testkit::reqwest::Method::POST, "/api/ds/query")
        .header("cache-control", "no-cache")
        .json(&json!({"from": from, "to": to, "queries": q}));
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-cache"], "BYPASS");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let upstream = st.prom.requests_served("/api/v1/query_range").await - before;
    assert_eq!(upstream, 2.0);

    // The engine's counters say the same.
    let (_, metrics) = st.pharos.anonymous().get("/metrics").await;
    let metrics = metrics.as_str().unwrap();
    let coalesced_or_hit: f64 = metrics
        .lines()
        .filter(|l| {
            (l.starts_with("pharos_query_coalesced_total{")
                || l.starts_with("pharos_query_cache_hits_total{"))
                && l.contains("datasource=\"prom\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(coalesced_or_hit >= 99.0, "{metrics}");
}

/// 200 simulated viewers of one 10-panel dashboard, each refreshing `now-1h..now` every 5 s at its
/// own offset, for 60 s: the upstream queries counted at Prometheus stay within what one viewer
/// costs (10 panels × 60 s / step + 10).
#[tokio::test]
async fn a_wall_of_screens_costs_what_one_viewer_costs() {
    let st = stack(&[]).await;
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

#[tokio::test]
async fn bad_input_fails_per_query_with_the_right_status() {
    // A source that accepts connections and never answers: the query timeout must end the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let mut st = stack(&[("PHAROS_QUERY_TIMEOUT", "2s")]).await;
    // A range query ending in the second of the first scrape may find no sample yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let admin = st.pharos.admin();
    let (s, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "Silent", "uid": "silent", "type": "prometheus", "access": "proxy",
                   "url": silent_url}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // Unknown datasource: 404 for the request.
    let (s, body) = ds_query(
        &admin,
        json!("now-5m"),
        json!("now"),
        json!([{"refId": "A", "datasource": {"uid": "nope"}, "expr": "up"}]),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains("nope"), "{body}");

    // Malformed PromQL: that query's 400 with Prometheus' message; the other query still answers.
    let (s, body) = ds_query(
        &admin,
        json!("now-5m"),
        json!("now"),
        json!([
            {"refId": "A", "datasource": {"uid": "prom"}, "expr": "sum(rate(up[1m]"},
            {"refId": "B", "datasource": {"uid": "prom"}, "expr": "up"}
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["results"]["A"]["status"], 400);
    assert!(
        body["results"]["A"]["error"]
            .as_str()
            .unwrap()
            .contains("parse error"),
        "{body}"
    );
    assert_eq!(body["results"]["B"]["status"], 200, "{body}");
    assert!(!body["results"]["B"]["frames"]
        .as_array()
        .unwrap()
        .is_empty());

    // Slow source: 504 within the configured timeout, and the healthy query is unaffected.
    let started = Instant::now();
    let (s, body) = ds_query(
        &admin,
        json!("now-5m"),
        json!("now"),
        json!([
            {"refId": "A", "datasource": {"uid": "silent"}, "expr": "up"},
            {"refId": "B", "datasource": {"uid": "prom"}, "expr": "up"}
        ]),
    )
    .await;
    let waited = started.elapsed();
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["results"]["A"]["status"], 504, "{body}");
    assert!(body["results"]["A"]["error"]
        .as_str()
        .unwrap()
        .contains("did not answer within 2 s"));
    assert_eq!(body["results"]["B"]["status"], 200);
    assert!(
        waited < Duration::from_secs(4),
        "the timeout took {waited:?}"
    );

    // A 10-year range is capped at Prometheus' safe resolution, not sent raw.
    let (s, body) = ds_query(
        &admin,
        json!("now-10y"),
        json!("now"),
        json!([{"refId": "A", "datasource": {"uid": "prom"}, "expr": "vector(1)", "intervalMs": 1, "maxDataPoints": 1000000}]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let step = step_of(&body["results"]["A"]);
    assert!(
        10 * 365 * 86_400_000i64 / step <= 11_000,
        "step {step} ms gives more than 11,000 points"
    );

    // Bad request shapes.
    let (s, body) = ds_query(
        &admin,
        json!("yesterday-ish"),
        json!("now"),
        json!([{"refId": "A", "expr": "up"}]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = admin
        .post(
            "/api/ds/query",
            json!({"from": "now-1h", "to": "now", "queries": []}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = st
        .pharos
        .anonymous()
        .post(
            "/api/ds/query",
            json!({"queries": [{"refId": "A", "expr": "up"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Source down: that query's 502 with a clear message, at once.
    st.prom.kill();
    let started = Instant::now();
    let (s, body) = ds_query(
        &admin,
        json!("now-5m"),
        json!("now"),
        json!([{"refId": "A", "datasource": {"uid": "prom"}, "expr": "up + 1"}]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["results"]["A"]["status"], 502, "{body}");
    assert!(body["results"]["A"]["error"]
        .as_str()
        .unwrap()
        .contains("cannot reach the datasource"));
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(silent);
}

/// Every query target of the node-exporter-full dashboard (from ../shared/fixtures), with the
/// dashboard's variables resolved from the live Prometheus through `/api/ds/variable-options`,
/// runs without error through `/api/ds/query`.
#[tokio::test]
async fn every_target_of_node_exporter_full_runs() {
    let st = stack(&[]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let admin = st.pharos.admin();
    let dir = std::env::var("PHAROS_FIXTURES_DIR").unwrap_or_else(|_| {
        format!(
            "{}/../../../shared/fixtures/dashboards",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let path = format!("{dir}/node-exporter-full.json");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
    )
    .unwrap();

    // Resolve the variables in order, as the dashboard would on load: each query variable takes
    // its first option; the datasource variable names our Prometheus.
    let mut variables = serde_json::Map::new();
    for var in dashboard["templating"]["list"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        match var["type"].as_str().unwrap() {
            "datasource" => {
                variables.insert(name.into(), json!("prom"));
            }
            "query" => {
                let (s, body) = admin
                    .post(
                        "/api/ds/variable-options",
                        json!({"datasource": var["datasource"], "query": var["query"],
                               "regex": var["regex"], "sort": var["sort"],
                               "from": "now-1h", "to": "now", "variables": variables}),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "variable {name}: {body}");
                let first = body["options"][0]["value"]
                    .as_str()
                    .unwrap_or_else(|| panic!("variable {name} has no options: {body}"))
                    .to_string();
                println!("variable {name} = {first:?}");
                variables.insert(name.into(), json!(first));
            }
            other => panic!("variable {name} of type {other} is not handled by this test"),
        }
    }
    assert_eq!(variables["job"], "node");

    // Every target of every panel, rows' collapsed panels included.
    let mut targets = Vec::new();
    let mut stack_of_panels: Vec<Value> = dashboard["panels"].as_array().unwrap().clone();
    while let Some(panel) = stack_of_panels.pop() {
        if let Some(children) = panel["panels"].as_array() {
            stack_of_panels.extend(children.iter().cloned());
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let mut q = target.clone();
            if q["datasource"].is_null() {
                q["datasource"] = panel["datasource"].clone();
            }
            q["intervalMs"] = json!(5000);
            q["maxDataPoints"] = panel.get("maxDataPoints").cloned().unwrap_or(json!(1000));
            targets.push((panel["title"].as_str().unwrap_or("").to_string(), q));
        }
    }
    let total = targets.len();
    let mut ok = 0;
    let mut with_data = 0;
    let mut failures = Vec::new();
    for (title, q) in targets {
        let (s, body) = admin
            .post(
                "/api/ds/query",
                json!({"from": "now-1h", "to": "now", "queries": [q], "variables": variables}),
            )
            .await;
        let result = body["results"].as_object().and_then(|r| r.values().next());
        if s == StatusCode::OK && result.is_some_and(|r| r["status"] == 200) {
            ok += 1;
            if result.is_some_and(|r| r["frames"].as_array().is_some_and(|f| !f.is_empty())) {
                with_data += 1;
            }
        } else {
            failures.push(format!("{title}: {} {s} {body}", q["expr"]));
        }
    }
    println!(
        "node-exporter-full: {ok} of {total} targets ran without error, {with_data} returned data"
    );
    assert!(total > 250, "only {total} targets found");
    // Variables really were interpolated: uninterpolated `$node` matches no series at all.
    assert!(
        with_data * 2 > total,
        "only {with_data} of {total} targets returned data"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! `/api/ds/query` against a real Prometheus scraping a real node exporter and Pharos' own
//! `/metrics`: values equal Prometheus' own answers, identical queries share one upstream request
//! (counted at Prometheus), bad input fails per query with the right status, and every target of
//! node-exporter-full runs. (The wall-of-screens load test has its own binary, query_wall.rs, so
//! its load does not starve these tests' scrapes.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pharos_testkit::json;
use pharos_testkit::prometheus::{ds_query, step_of, Stack};
use pharos_testkit::reqwest::StatusCode;
use serde_json::Value;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
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

#[tokio::test]
async fn values_equal_prometheus_and_identical_queries_share_one_request() {
    // Ranges that ended 5 s ago count as settled, so the test needs little history.
    let st = Stack::start(&[("PHAROS_QUERY_CACHE_TOLERANCE", "5s")]).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
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
    assert!(values > 50, "too few values compared: {values}");

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

#[tokio::test]
async fn bad_input_fails_per_query_with_the_right_status() {
    // A source that accepts connections and never answers: the query timeout must end the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let mut st = Stack::start(&[("PHAROS_QUERY_TIMEOUT", "2s")]).await;
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
    let st = Stack::start(&[]).await;
    // Rates over `$__rate_interval` (4 scrapes) need a few scrapes of history.
    tokio::time::sleep(Duration::from_secs(8)).await;
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
            if let Some(frames) = result.and_then(|r| r["frames"].as_array()) {
                with_data += usize::from(!frames.is_empty());
                // What ran is the interpolated expression.
                for frame in frames {
                    let executed = frame["schema"]["meta"]["executedQueryString"]
                        .as_str()
                        .unwrap_or_default();
                    for var in [
                        "$node",
                        "$job",
                        "$nodename",
                        "$__rate_interval",
                        "$__interval",
                    ] {
                        assert!(!executed.contains(var), "{title}: {executed}");
                    }
                }
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

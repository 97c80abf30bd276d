//! The Prometheus source against a real Prometheus scraping a real node exporter: for a table of
//! PromQL queries over a fixed past range, every value in the frames equals what Prometheus' own
//! HTTP API answers for the same range and step; errors map to the right kinds.

use std::collections::BTreeMap;
use std::time::Duration;

use pharos_datasource::source::Upstream;
use pharos_datasource::{DataSource, FieldValues, Frame, QueryError, QueryItem, Source, TimeRange};
use pharos_testkit::prometheus::{NodeExporter, Prometheus, Target};
use serde_json::{json, Value};

fn datasource(url: &str) -> DataSource {
    DataSource {
        uid: "prom".into(),
        name: "Prometheus".into(),
        kind: "prometheus".into(),
        url: url.into(),
        json_data: json!({"timeInterval": "1s"}),
        ..Default::default()
    }
}

fn item(model: Value) -> QueryItem {
    QueryItem {
        ref_id: "A".into(),
        interval_ms: model["intervalMs"].as_i64().unwrap_or(0),
        max_data_points: model["maxDataPoints"].as_i64().unwrap_or(0),
        model: model.as_object().cloned().unwrap_or_default(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Series of one answer keyed by their labels: (times, values) with NaN written as None.
type SeriesByLabels = BTreeMap<BTreeMap<String, String>, (Vec<i64>, Vec<Option<f64>>)>;

fn from_frames(frames: &[Frame]) -> SeriesByLabels {
    let mut out = SeriesByLabels::new();
    for f in frames {
        let FieldValues::Time(times) = &f.fields[0].values else {
            panic!("first field is not time: {f:?}")
        };
        let FieldValues::Number(values) = &f.fields[1].values else {
            panic!("second field is not numbers: {f:?}")
        };
        let values = values.iter().map(|v| v.filter(|x| !x.is_nan())).collect();
        out.insert(
            f.fields[1].labels.clone().unwrap_or_default(),
            (times.clone(), values),
        );
    }
    out
}

fn from_prometheus(answer: &Value) -> SeriesByLabels {
    assert_eq!(answer["status"], "success", "{answer}");
    let mut out = SeriesByLabels::new();
    for s in answer["data"]["result"].as_array().unwrap() {
        let labels: BTreeMap<String, String> = serde_json::from_value(s["metric"].clone()).unwrap();
        let mut times = Vec::new();
        let mut values = Vec::new();
        let points: Vec<Value> = match s.get("values") {
            Some(v) => v.as_array().unwrap().clone(),
            None => vec![s["value"].clone()],
        };
        for p in points {
            times.push((p[0].as_f64().unwrap() * 1000.0).round() as i64);
            values.push(
                p[1].as_str()
                    .unwrap()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| !x.is_nan()),
            );
        }
        out.insert(labels, (times, values));
    }
    out
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[tokio::test]
async fn frames_equal_what_prometheus_answers() {
    let node = NodeExporter::start().await;
    let prom = Prometheus::start(
        &[Target {
            job: "node".into(),
            addresses: vec![node.address.clone()],
        }],
        Duration::from_secs(1),
    )
    .await;
    // Enough history for rates and a fixed range wholly in the past.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let end = now_ms() - 1000;
    let range = TimeRange {
        from_ms: end - 7_000,
        to_ms: end,
    };
    let post = datasource(&prom.url);
    // The same table over GET (jsonData.httpMethod), for servers that refuse POST.
    let mut get = post.clone();
    get.json_data["httpMethod"] = json!("GET");
    let source = pharos_datasource::prometheus::Prometheus;

    let cases = [
        json!({"expr": "up", "intervalMs": 1000, "maxDataPoints": 100}),
        json!({"expr": "node_load1", "intervalMs": 1000, "maxDataPoints": 3}),
        json!({"expr": "rate(node_cpu_seconds_total{mode=\"idle\"}[$__rate_interval])", "intervalMs": 1000, "maxDataPoints": 100}),
        json!({"expr": "sum by (mode) (rate(node_cpu_seconds_total[5s]))", "intervalMs": 2000}),
        json!({"expr": "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "interval": "2s"}),
        json!({"expr": "scrape_duration_seconds * 1000", "intervalMs": 1000, "legendFormat": "{{job}}"}),
        json!({"expr": "count(node_cpu_seconds_total)", "instant": true, "range": false}),
        json!({"expr": "node_time_seconds - node_boot_time_seconds", "instant": true, "range": true, "intervalMs": 1000}),
        json!({"expr": "absent(nonexistent_metric)", "intervalMs": 1000}),
        json!({"expr": "0/0 + up", "intervalMs": 1000}),
    ];
    let mut compared_values = 0;
    for (ds, case) in [&post, &get]
        .into_iter()
        .flat_map(|ds| cases.iter().map(move |c| (ds, c)))
    {
        let upstream = Upstream::for_datasource(ds).unwrap();
        let query = item(case.clone());
        let prepared = source.prepare(ds, &query, range).unwrap();
        let frames = source.execute(&upstream, ds, &prepared).await.unwrap();
        let plan: &pharos_datasource::prometheus::PromPlan = prepared.plan().unwrap();
        assert_eq!(plan.post, ds.json_data.get("httpMethod").is_none());
        assert!(!plan.expr.contains('$'), "variables left in {}", plan.expr);
        let mut expected = SeriesByLabels::new();
        if plan.range {
            expected.extend(from_prometheus(
                &prom
                    .api(
                        "query_range",
                        &[
                            ("query", plan.expr.clone()),
                            ("start", seconds(plan.start_ms)),
                            ("end", seconds(plan.end_ms)),
                            ("step", seconds(plan.step_ms)),
                        ],
                    )
                    .await,
            ));
        }
        let range_frames: Vec<Frame> = frames
            .iter()
            .filter(|f| f.meta.as_ref().unwrap()["custom"]["resultType"] == "matrix" || !plan.range)
            .cloned()
            .collect();
        if plan.instant {
            let instant = from_prometheus(
                &prom
                    .api(
                        "query",
                        &[("query", plan.expr.clone()), ("time", seconds(plan.end_ms))],
                    )
                    .await,
            );
            let got: Vec<Frame> = frames
                .iter()
                .filter(|f| f.meta.as_ref().unwrap()["custom"]["resultType"] != "matrix")
                .cloned()
                .collect();
            assert_eq!(from_frames(&got), instant, "instant query {case}");
            compared_values += instant.values().map(|s| s.1.len()).sum::<usize>();
            if !plan.range {
                continue;
            }
        }
        let got = from_frames(&range_frames);
        assert_eq!(got, expected, "query {case} (plan {plan:?})");
        compared_values += expected.values().map(|s| s.1.len()).sum::<usize>();
        if let Some(legend) = &plan.legend {
            for f in &frames {
                assert_eq!(
                    f.name.as_deref(),
                    Some(
                        pharos_datasource::prometheus::format_legend(
                            legend,
                            f.fields[1].labels.as_ref().unwrap()
                        )
                        .as_str()
                    )
                );
            }
        }
    }
    println!("compared {compared_values} values with Prometheus' own answers");
    assert!(
        compared_values > 50,
        "too few values compared: {compared_values}"
    );
}

#[tokio::test]
async fn errors_name_their_cause() {
    let node = NodeExporter::start().await;
    let mut prom = Prometheus::start(
        &[Target {
            job: "node".into(),
            addresses: vec![node.address.clone()],
        }],
        Duration::from_secs(1),
    )
    .await;
    let ds = datasource(&prom.url);
    let upstream = Upstream::for_datasource(&ds).unwrap();
    let source = pharos_datasource::prometheus::Prometheus;
    let range = TimeRange {
        from_ms: now_ms() - 60_000,
        to_ms: now_ms(),
    };

    let prepared = source
        .prepare(&ds, &item(json!({"expr": "sum(rate(up[1m]"})), range)
        .unwrap();
    match source.execute(&upstream, &ds, &prepared).await {
        Err(QueryError::BadQuery(message)) => {
            assert!(message.contains("parse error"), "{message}")
        }
        other => panic!("malformed PromQL gave {other:?}"),
    }
    assert!(source
        .health(&upstream, &ds)
        .await
        .unwrap()
        .contains("Successfully"));

    prom.kill();
    let prepared = source
        .prepare(&ds, &item(json!({"expr": "up"})), range)
        .unwrap();
    let started = std::time::Instant::now();
    match source.execute(&upstream, &ds, &prepared).await {
        Err(QueryError::Upstream(message)) => {
            assert!(message.contains("cannot reach"), "{message}")
        }
        other => panic!("a dead Prometheus gave {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(source.health(&upstream, &ds).await.is_err());
}

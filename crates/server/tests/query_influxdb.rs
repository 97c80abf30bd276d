//! `/api/ds/query` end to end against a real InfluxDB 1.x with authentication on: the datasource
//! is created through the API with its password in `secureJsonData` (encrypted at rest, injected
//! into the upstream request), values equal InfluxDB's own answers, dashboard variables are
//! interpolated server-side, InfluxQL variable queries resolve, and a `-- Mixed --` request with
//! InfluxDB and TestData queries answers both.

use std::collections::BTreeMap;

use pharos_testkit::influxdb::InfluxDb;
use pharos_testkit::reqwest::StatusCode;
use pharos_testkit::{json, Backend, Pharos};
use serde_json::Value;

const DB: &str = "metrics";
/// 2024-01-01T00:00:00Z: the data lies wholly in the past.
const START: i64 = 1_704_067_200_000;

/// (host, time, value) written by the test.
fn points() -> Vec<(&'static str, i64, f64)> {
    let mut out = Vec::new();
    for (h, host) in ["alpha", "beta"].into_iter().enumerate() {
        for i in 0..120i64 {
            out.push((
                host,
                START + i * 15_000,
                (i * (h as i64 + 2)) as f64 * 0.75 + 0.5,
            ));
        }
    }
    out
}

/// Series keyed by their tags (labels): (time, value) rows.
type Series = BTreeMap<BTreeMap<String, String>, Vec<(i64, Option<f64>)>>;

/// The first value column of every series of an InfluxDB answer, keyed by the series' tags.
fn influx_series(answer: &Value) -> Series {
    let mut out = BTreeMap::new();
    for s in answer["results"][0]["series"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let tags: BTreeMap<String, String> =
            serde_json::from_value(s["tags"].clone()).unwrap_or_default();
        let rows = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_i64().unwrap(), r[1].as_f64()))
            .collect();
        out.insert(tags, rows);
    }
    out
}

fn frame_series(result: &Value) -> Series {
    let mut out = BTreeMap::new();
    for frame in result["frames"].as_array().unwrap() {
        let labels: BTreeMap<String, String> =
            serde_json::from_value(frame["schema"]["fields"][1]["labels"].clone())
                .unwrap_or_default();
        let values = &frame["data"]["values"];
        let rows = values[0]
            .as_array()
            .unwrap()
            .iter()
            .zip(values[1].as_array().unwrap())
            .map(|(t, v)| (t.as_i64().unwrap(), v.as_f64()))
            .collect();
        out.insert(labels, rows);
    }
    out
}

#[tokio::test]
async fn influxql_through_the_api_with_an_encrypted_password() {
    let influx = InfluxDb::start_with_admin("reader", "s3cret-pass").await;
    influx.create_database(DB).await;
    let lines: Vec<String> = points()
        .iter()
        .map(|(host, t, v)| format!("cpu,host={host} usage={v} {t}"))
        .collect();
    influx.write(DB, &lines.join("\n")).await;

    let px = Pharos::start(Backend::Sqlite).await;
    let admin = px.admin();
    let (s, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "Influx", "uid": "influx", "type": "influxdb", "access": "proxy",
                   "url": influx.url, "database": DB, "user": "reader",
                   "secureJsonData": {"password": "s3cret-pass"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "TestData", "uid": "testdata", "type": "grafana-testdata-datasource",
                   "access": "proxy"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, health) = admin.get("/api/datasources/uid/influx/health").await;
    assert_eq!(s, StatusCode::OK, "{health}");

    let from = START;
    let to = START + 30 * 60_000 - 1;
    let cases = [
        "SELECT usage FROM cpu WHERE $timeFilter GROUP BY host",
        "SELECT mean(usage) FROM cpu WHERE $timeFilter GROUP BY time($__interval), host fill(null)",
        "SELECT max(usage) FROM cpu WHERE host =~ /^$host$/ AND $timeFilter GROUP BY time(1m), host",
    ];
    let mut compared = 0;
    for query in cases {
        let (s, body) = admin
            .post(
                "/api/ds/query",
                json!({"from": from.to_string(), "to": to.to_string(),
                       "variables": {"host": ["alpha", "beta"]},
                       "queries": [{"refId": "A", "datasource": {"type": "influxdb", "uid": "influx"},
                                    "rawQuery": true, "query": query, "resultFormat": "time_series",
                                    "intervalMs": 60000, "maxDataPoints": 30}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{query}: {body}");
        let result = &body["results"]["A"];
        let executed = result["frames"][0]["schema"]["meta"]["executedQueryString"]
            .as_str()
            .unwrap_or_else(|| panic!("no executed query in {result}"));
        assert!(
            !executed.contains("$timeFilter")
                && !executed.contains("$host")
                && !executed.contains("$__interval"),
            "{executed}"
        );
        let expected = influx_series(&influx.query(DB, executed).await);
        let got = frame_series(result);
        assert_eq!(got, expected, "{query}");
        assert_eq!(got.len(), 2, "{query}: one series per host");
        compared += expected.values().map(Vec::len).sum::<usize>();
    }
    println!("compared {compared} InfluxDB values through /api/ds/query");
    assert!(compared > 200);

    // The password is stored encrypted, not as sent.
    let db_file = px.db.url.trim_start_matches("sqlite://").to_string();
    let raw = std::fs::read(&db_file).unwrap();
    assert!(
        !raw.windows(b"s3cret-pass".len())
            .any(|w| w == b"s3cret-pass"),
        "the password is in the database file in plain text"
    );

    // A variable query against InfluxDB.
    let (s, body) = admin
        .post(
            "/api/ds/variable-options",
            json!({"datasource": {"uid": "influx"}, "query": "SHOW TAG VALUES FROM cpu WITH KEY = \"host\"",
                   "sort": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["options"],
        json!([{"text": "beta", "value": "beta"}, {"text": "alpha", "value": "alpha"}])
    );

    // A mixed panel: each query names its own datasource; both answer.
    let (s, body) = admin
        .post(
            "/api/ds/query",
            json!({"from": from.to_string(), "to": to.to_string(),
                   "queries": [
                       {"refId": "A", "datasource": {"uid": "influx"}, "rawQuery": true,
                        "query": "SELECT count(usage) FROM cpu WHERE $timeFilter"},
                       {"refId": "B", "datasource": {"type": "grafana-testdata-datasource", "uid": "testdata"},
                        "scenarioId": "csv_metric_values", "stringInput": "1,2,3"}
                   ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["results"]["A"]["frames"][0]["data"]["values"][1],
        json!([240.0])
    );
    assert_eq!(
        body["results"]["B"]["frames"][0]["data"]["values"][1],
        json!([1.0, 2.0, 3.0])
    );

    // A wrong password (changed through the API) fails that query with InfluxDB's refusal.
    let (s, body) = admin
        .put(
            "/api/datasources/uid/influx",
            json!({"name": "Influx", "type": "influxdb", "access": "proxy", "url": influx.url,
                   "database": DB, "user": "reader", "secureJsonData": {"password": "wrong"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = admin
        .post(
            "/api/ds/query",
            json!({"from": from.to_string(), "to": to.to_string(),
                   "queries": [{"refId": "A", "datasource": {"uid": "influx"}, "rawQuery": true,
                                "query": "SELECT count(usage) FROM cpu WHERE $timeFilter"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["results"]["A"]["status"], 502, "{body}");
}

//! The InfluxDB source against a real InfluxDB 1.x (Debian's `influxd`) holding points this test
//! writes: for a table of InfluxQL queries, every frame Pharos makes must hold exactly what
//! InfluxDB's own HTTP API answers for the same final query; errors, a dead server and the
//! credential settings behave as Grafana's do.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pharos_datasource::influxdb::InfluxDb as InfluxSource;
use pharos_datasource::source::Upstream;
use pharos_datasource::{DataSource, FieldValues, Frame, QueryError, QueryItem, Source, TimeRange};
use pharos_testkit::influxdb::InfluxDb;
use serde_json::{json, Value};

const DB: &str = "metrics";
/// 2024-01-01T00:00:00Z: the data lies wholly in the past.
const START: i64 = 1_704_067_200_000;
const STEP: i64 = 10_000;
/// 30 minutes of points every 10 s.
const POINTS: i64 = 180;
/// Host `b` has no points in this index range (a gap that grouping turns into nulls).
const GAP: std::ops::Range<i64> = 60..90;
const RANGE: TimeRange = TimeRange {
    from_ms: START,
    to_ms: START + POINTS * STEP - 1,
};

/// One written `cpu` point of a host, for checking frames against the data itself.
#[derive(Debug, Clone, PartialEq)]
struct CpuPoint {
    time: i64,
    usage: f64,
    count: Option<i64>,
}

/// The points of each host: `a` and `b` (with a gap) have a float and an integer field, `c` only
/// the float, every third step.
fn cpu_points() -> BTreeMap<&'static str, Vec<CpuPoint>> {
    let mut hosts = BTreeMap::new();
    for (host, offset) in [("a", 0i64), ("b", 1), ("c", 2)] {
        let points = (0..POINTS)
            .filter(|i| !(host == "b" && GAP.contains(i)))
            .filter(|i| host != "c" || i % 3 == 0)
            .map(|i| CpuPoint {
                time: START + i * STEP,
                usage: ((i * 7 + offset * 13) % 100) as f64 / 4.0 + 0.125,
                count: (host != "c").then_some(i * 3 + offset * 1000),
            })
            .collect();
        hosts.insert(host, points);
    }
    hosts
}

fn region(host: &str) -> &'static str {
    if host == "b" {
        "us"
    } else {
        "eu"
    }
}

fn line_protocol() -> String {
    let mut lines = Vec::new();
    for (host, points) in cpu_points() {
        for p in points {
            let count = p.count.map(|c| format!(",count={c}i")).unwrap_or_default();
            lines.push(format!(
                "cpu,host={host},region={} usage={}{count} {}",
                region(host),
                p.usage,
                p.time
            ));
        }
    }
    for i in 0..POINTS / 6 {
        lines.push(format!(
            "mem,host=a used={}i {}",
            1_000_000 + i * 4096,
            START + i * 6 * STEP
        ));
        let status = if i % 4 == 0 { "degraded" } else { "ok" };
        lines.push(format!(
            "events,host=a status=\"{status}\" {}",
            START + i * 6 * STEP + 1
        ));
    }
    lines.join("\n")
}

async fn influx_with_data() -> InfluxDb {
    let influx = InfluxDb::start().await;
    influx.create_database(DB).await;
    influx.write(DB, &line_protocol()).await;
    influx
}

fn datasource(url: &str) -> DataSource {
    DataSource {
        id: 1,
        uid: "influx".into(),
        name: "InfluxDB".into(),
        kind: "influxdb".into(),
        url: url.into(),
        database: DB.into(),
        json_data: json!({}),
        ..Default::default()
    }
}

/// One query through `prepare` and `execute`, as the engine runs it.
async fn run(
    ds: &DataSource,
    model: Value,
    max_data_points: i64,
) -> Result<Vec<Frame>, QueryError> {
    let query = QueryItem {
        ref_id: "A".into(),
        interval_ms: 1000,
        max_data_points,
        model: model.as_object().expect("query model").clone(),
    };
    let prepared = InfluxSource.prepare(ds, &query, RANGE)?;
    let upstream = Upstream::for_datasource(ds)?;
    InfluxSource.execute(&upstream, ds, &prepared).await
}

fn raw(query: &str) -> Value {
    json!({"refId": "A", "rawQuery": true, "query": query, "resultFormat": "time_series"})
}

/// The final query a frame says it ran.
fn executed(frames: &[Frame]) -> String {
    let first = frames.first().expect("at least one frame");
    let text = first.meta.as_ref().expect("frame meta")["executedQueryString"]
        .as_str()
        .expect("executedQueryString")
        .to_string();
    for f in frames {
        assert_eq!(
            f.meta.as_ref().unwrap()["executedQueryString"],
            text.as_str()
        );
    }
    for mac in ["$timeFilter", "$__", "$interval", "${"] {
        assert!(!text.contains(mac), "macros left in {text}");
    }
    text
}

/// A frame column as JSON cells: numbers as `f64`, nulls as null.
fn cells(values: &FieldValues) -> Vec<Value> {
    match values {
        FieldValues::Time(v) => v.iter().map(|t| json!(t)).collect(),
        FieldValues::Number(v) => v.iter().map(|x| json!(x)).collect(),
        FieldValues::String(v) => v.iter().map(|x| json!(x)).collect(),
        FieldValues::Bool(v) => v.iter().map(|x| json!(x)).collect(),
    }
}

/// An InfluxDB cell as a frame holds it: every number (integers too) as `f64`.
fn influx_cell(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().expect("a number")),
        other => other.clone(),
    }
}

fn all_series(answer: &Value) -> Vec<&Value> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {answer}"))
        .iter()
        .flat_map(|r| r["series"].as_array().into_iter().flatten())
        .collect()
}

fn tags_of(series: &Value) -> BTreeMap<String, String> {
    series["tags"]
        .as_object()
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Grafana's default series name: `measurement.column { tag: value, ... }`.
fn default_name(measurement: &str, column: &str, tags: &BTreeMap<String, String>) -> String {
    let mut name = format!("{measurement}.{column}");
    if !tags.is_empty() {
        let parts: Vec<String> = tags.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        name += &format!(" {{ {} }}", parts.join(", "));
    }
    name
}

type Namer = fn(&str, &str, &BTreeMap<String, String>) -> String;

/// Time series frames must be InfluxDB's series, one per value column, in order, with equal
/// times, values, labels and names.
fn assert_series_frames(frames: &[Frame], answer: &Value, namer: Namer) {
    let mut expected = Vec::new();
    for series in all_series(answer) {
        let columns: Vec<&str> = series["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let time = columns
            .iter()
            .position(|c| *c == "time")
            .expect("time column");
        let rows = series["values"].as_array().unwrap();
        let tags = tags_of(series);
        for (col, column) in columns.iter().enumerate().filter(|(c, _)| *c != time) {
            expected.push((
                namer(series["name"].as_str().unwrap(), column, &tags),
                tags.clone(),
                rows.iter().map(|r| r[time].clone()).collect::<Vec<_>>(),
                rows.iter()
                    .map(|r| influx_cell(&r[col]))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    assert_eq!(
        frames.len(),
        expected.len(),
        "frames: {:?}",
        frames.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    for (frame, (name, tags, times, values)) in frames.iter().zip(expected) {
        assert_eq!(frame.name.as_deref(), Some(name.as_str()));
        assert_eq!(frame.fields.len(), 2, "{name}");
        assert_eq!(frame.fields[0].name, "Time");
        assert_eq!(cells(&frame.fields[0].values), times, "{name}: times");
        let value = &frame.fields[1];
        assert_eq!(value.name, "Value");
        assert_eq!(cells(&value.values), values, "{name}: values");
        assert_eq!(
            value.labels.clone().unwrap_or_default(),
            tags,
            "{name}: labels"
        );
        assert_eq!(
            value.config.as_ref().unwrap()["displayNameFromDS"],
            name.as_str()
        );
    }
}

/// A table frame must hold every row of every series: time, the tags, the value columns.
fn assert_table_frame(frames: &[Frame], answer: &Value) {
    let series = all_series(answer);
    assert_eq!(frames.len(), 1);
    let frame = &frames[0];
    let columns: Vec<&str> = series[0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(columns[0], "time");
    let tag_keys: Vec<String> = tags_of(series[0]).into_keys().collect();
    let mut expected: Vec<(String, Vec<Value>)> = vec![("Time".into(), vec![])];
    expected.extend(tag_keys.iter().map(|k| (k.clone(), vec![])));
    expected.extend(columns[1..].iter().map(|c| (c.to_string(), vec![])));
    for s in &series {
        let tags = tags_of(s);
        for row in s["values"].as_array().unwrap() {
            expected[0].1.push(row[0].clone());
            for (i, key) in tag_keys.iter().enumerate() {
                expected[1 + i].1.push(json!(tags[key]));
            }
            for (i, _) in columns[1..].iter().enumerate() {
                expected[1 + tag_keys.len() + i]
                    .1
                    .push(influx_cell(&row[1 + i]));
            }
        }
    }
    let got: Vec<(String, Vec<Value>)> = frame
        .fields
        .iter()
        .map(|f| (f.name.clone(), cells(&f.values)))
        .collect();
    assert_eq!(got, expected);
}

enum Shape {
    Series(Namer),
    Table,
}

struct Case {
    name: &'static str,
    model: Value,
    max_data_points: i64,
    shape: Shape,
    /// What else must hold of the frames (beyond equality with InfluxDB's answer).
    check: fn(&[Frame], &str),
}

fn numbers(frame: &Frame) -> Vec<Option<f64>> {
    match &frame.fields[1].values {
        FieldValues::Number(v) => v.clone(),
        other => panic!("not numbers: {other:?}"),
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "raw select by host equals the written points",
            model: raw("SELECT usage, count FROM cpu WHERE $timeFilter GROUP BY host"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| {
                // Independently of InfluxDB's answer: the frames hold what the test wrote.
                let written = cpu_points();
                assert_eq!(frames.len(), 6);
                for (i, (host, points)) in written.iter().enumerate() {
                    let usage = &frames[2 * i];
                    let count = &frames[2 * i + 1];
                    assert_eq!(usage.fields[1].labels.as_ref().unwrap()["host"], *host);
                    let times: Vec<i64> = points.iter().map(|p| p.time).collect();
                    assert_eq!(usage.fields[0].values, FieldValues::Time(times));
                    let u: Vec<Option<f64>> = points.iter().map(|p| Some(p.usage)).collect();
                    assert_eq!(numbers(usage), u);
                    let c: Vec<Option<f64>> =
                        points.iter().map(|p| p.count.map(|c| c as f64)).collect();
                    assert_eq!(numbers(count), c);
                }
            },
        },
        Case {
            name: "raw select of all hosts with nulls",
            model: raw("SELECT usage, count FROM cpu WHERE $timeFilter AND host = 'c'"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| {
                assert_eq!(frames[0].name.as_deref(), Some("cpu.usage"));
                assert!(numbers(&frames[1]).iter().all(Option::is_none));
            },
        },
        Case {
            name: "mean by $__interval with fill(null)",
            model: raw("SELECT mean(usage) FROM cpu WHERE $timeFilter \
                 GROUP BY time($__interval), host fill(null)"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, q| {
                // 30 min / 100 points = 18 s, which Grafana rounds to 20 s.
                assert!(q.contains("GROUP BY time(20s)"), "{q}");
                assert_eq!(frames.len(), 3);
                assert!(numbers(&frames[1]).iter().any(Option::is_none), "gap of b");
            },
        },
        Case {
            name: "mean by $__interval with fill(0)",
            model: raw("SELECT mean(usage) FROM cpu WHERE $timeFilter \
                 GROUP BY time($__interval), host fill(0)"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| {
                let b = numbers(&frames[1]);
                assert!(b.iter().all(Option::is_some));
                assert!(b.contains(&Some(0.0)), "gap of b filled with 0");
            },
        },
        Case {
            name: "integer aggregates with a tag filter and $__interval_ms",
            model: raw("SELECT max(count), min(count), count(count) FROM cpu \
                 WHERE $timeFilter AND \"region\" = 'eu' AND $__interval_ms > 0 \
                 GROUP BY time($__interval), \"host\""),
            max_data_points: 30,
            shape: Shape::Series(default_name),
            check: |frames, q| {
                assert!(q.contains("60000 > 0") && q.contains("time(1m)"), "{q}");
                // Only eu hosts, and of those only `a` has counts (`c` has no such field).
                assert_eq!(frames.len(), 3);
                assert!(frames
                    .iter()
                    .all(|f| f.fields[1].labels.as_ref().unwrap()["host"] == "a"));
            },
        },
        Case {
            name: "alias pattern",
            model: json!({
                "rawQuery": true,
                "query": "SELECT mean(\"usage\") AS \"u\", last(\"count\") FROM cpu \
                          WHERE $timeFilter GROUP BY time(5m), host, region",
                "alias": "$m $col on [[tag_host]] ($tag_region)",
            }),
            max_data_points: 100,
            shape: Shape::Series(|m, col, tags| {
                format!("{m} {col} on {} ({})", tags["host"], tags["region"])
            }),
            check: |frames, _| {
                assert_eq!(frames[0].name.as_deref(), Some("cpu u on a (eu)"));
            },
        },
        Case {
            name: "table format",
            model: json!({
                "rawQuery": true,
                "query": "SELECT mean(usage), sum(count) FROM cpu WHERE $timeFilter \
                          GROUP BY time(10m), host, region",
                "resultFormat": "table",
            }),
            max_data_points: 100,
            shape: Shape::Table,
            check: |frames, _| {
                let names: Vec<&str> = frames[0].fields.iter().map(|f| f.name.as_str()).collect();
                assert_eq!(names, ["Time", "host", "region", "mean", "sum"]);
                assert_eq!(frames[0].rows(), 9);
            },
        },
        Case {
            name: "integers of another measurement",
            model: raw("SELECT last(used) FROM mem WHERE $timeFilter GROUP BY time(5m)"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| assert_eq!(frames[0].rows(), 6),
        },
        Case {
            name: "strings stay strings",
            model: raw("SELECT status FROM events WHERE $timeFilter"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| {
                assert!(
                    matches!(&frames[0].fields[1].values, FieldValues::String(v) if v.len() == 30)
                );
            },
        },
        Case {
            name: "two statements",
            model: raw("SELECT count(usage) FROM cpu WHERE $timeFilter; \
                 SELECT mean(used) FROM mem WHERE $timeFilter"),
            max_data_points: 100,
            shape: Shape::Series(default_name),
            check: |frames, _| assert_eq!(frames.len(), 2),
        },
        Case {
            name: "query builder",
            model: json!({
                "policy": "default",
                "measurement": "cpu",
                "resultFormat": "time_series",
                "select": [[{"type": "field", "params": ["usage"]}, {"type": "mean", "params": []}]],
                "tags": [{"key": "host", "operator": "=~", "value": "/^(a|b)$/"}],
                "groupBy": [
                    {"type": "time", "params": ["$__interval"]},
                    {"type": "tag", "params": ["host"]},
                    {"type": "fill", "params": ["null"]}
                ],
            }),
            max_data_points: 60,
            shape: Shape::Series(default_name),
            check: |frames, q| {
                assert!(
                    q.starts_with("SELECT mean(\"usage\") FROM \"cpu\" WHERE"),
                    "{q}"
                );
                assert_eq!(frames.len(), 2);
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influxql_frames_equal_what_influxdb_answers() {
    let influx = influx_with_data().await;
    let get = datasource(&influx.url);
    let mut post = datasource(&influx.url);
    post.json_data = json!({"httpMode": "POST"});
    let mut checked = 0;
    for case in cases() {
        for ds in [&get, &post] {
            let frames = run(ds, case.model.clone(), case.max_data_points)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let query = executed(&frames);
            let answer = influx.query(DB, &query).await;
            match case.shape {
                Shape::Series(namer) => assert_series_frames(&frames, &answer, namer),
                Shape::Table => assert_table_frame(&frames, &answer),
            }
            (case.check)(&frames, &query);
            checked += frames
                .iter()
                .map(|f| f.rows() * f.fields.len())
                .sum::<usize>();
        }
        println!("ok: {}", case.name);
    }
    println!("{checked} values checked against InfluxDB's answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influx_errors_and_health() {
    let influx = influx_with_data().await;
    let ds = datasource(&influx.url);

    // Malformed InfluxQL: InfluxDB's own message, as a bad query.
    let bad = "SELECT FROM cpu WHERE time > 0";
    let err = run(&ds, raw(bad), 100).await.unwrap_err();
    let expected = influx.query(DB, bad).await["error"]
        .as_str()
        .expect("InfluxDB rejects the query")
        .to_string();
    assert!(expected.contains("error parsing query"), "{expected}");
    assert_eq!(err, QueryError::BadQuery(expected));
    assert_eq!(err.status(), 400);

    // An unknown database: the statement's error.
    let mut other = ds.clone();
    other.database = "nope".into();
    let q = "SELECT usage FROM cpu WHERE time > 0";
    let err = run(&other, raw(q), 100).await.unwrap_err();
    let expected = influx.query("nope", q).await["results"][0]["error"]
        .as_str()
        .expect("InfluxDB names the missing database")
        .to_string();
    assert_eq!(err, QueryError::BadQuery(expected));

    // `jsonData.dbName` wins over the `database` column.
    other.json_data = json!({"dbName": DB});
    let frames = run(&other, raw(q), 100).await.unwrap();
    assert_eq!(frames.len(), 1);

    // Health: Grafana's message with the number of measurements InfluxDB lists.
    let upstream = Upstream::for_datasource(&ds).unwrap();
    let message = InfluxSource.health(&upstream, &ds).await.unwrap();
    let listed = influx.query(DB, "SHOW MEASUREMENTS").await["results"][0]["series"][0]["values"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, 3);
    assert_eq!(
        message,
        format!("datasource is working. {listed} measurements found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influx_down_is_an_upstream_error_at_once() {
    let mut influx = influx_with_data().await;
    let ds = datasource(&influx.url);
    let q = raw("SELECT mean(usage) FROM cpu WHERE $timeFilter GROUP BY time($__interval)");
    assert!(run(&ds, q.clone(), 100).await.is_ok());
    influx.stop();

    let started = Instant::now();
    let err = run(&ds, q, 100).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, QueryError::Upstream(m) if m.contains(&influx.url)),
        "{err:?}"
    );
    assert_eq!(err.status(), 502);
    let upstream = Upstream::for_datasource(&ds).unwrap();
    assert!(matches!(
        InfluxSource.health(&upstream, &ds).await,
        Err(QueryError::Upstream(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_password_and_basic_auth() {
    let influx = InfluxDb::start_with_admin("admin", "s3cret pass").await;
    influx.create_database(DB).await;
    influx.write(DB, &line_protocol()).await;
    let q = raw("SELECT max(usage) FROM cpu WHERE $timeFilter GROUP BY host");

    // Without credentials InfluxDB refuses: the datasource is misconfigured, not the query.
    let anonymous = datasource(&influx.url);
    let err = run(&anonymous, q.clone(), 100).await.unwrap_err();
    assert!(
        matches!(&err, QueryError::Upstream(m) if m.contains("401")),
        "{err:?}"
    );

    // The datasource's user and password (Grafana's `user` + `secureJsonData.password`).
    let mut user = datasource(&influx.url);
    user.user = "admin".into();
    user.secure.insert("password".into(), "s3cret pass".into());
    let frames = run(&user, q.clone(), 100).await.unwrap();
    let answer = influx.query(DB, &executed(&frames)).await;
    assert_series_frames(&frames, &answer, default_name);
    assert_eq!(frames.len(), 3);
    let upstream = Upstream::for_datasource(&user).unwrap();
    assert_eq!(
        InfluxSource.health(&upstream, &user).await.unwrap(),
        "datasource is working. 3 measurements found"
    );

    // A wrong password is refused.
    user.secure.insert("password".into(), "wrong".into());
    assert!(run(&user, q.clone(), 100).await.is_err());

    // Basic auth proper, which takes precedence over the user setting.
    let mut basic = datasource(&influx.url);
    basic.basic_auth = true;
    basic.basic_auth_user = "admin".into();
    basic
        .secure
        .insert("basicAuthPassword".into(), "s3cret pass".into());
    basic.user = "someone-else".into();
    let frames = run(&basic, q, 100).await.unwrap();
    assert_series_frames(&frames, &answer, default_name);
}

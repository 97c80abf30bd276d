//! The rule editor's preview, `POST /api/v1/eval`: queries run as evaluation runs them (TestData's
//! deterministic waves, and a real Prometheus), expressions over them, every refId's frames in
//! `/api/ds/query`'s encoding, and the condition's instances with their state right now.

use std::time::Duration;

use pharos_testkit::prometheus::Prometheus;
use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

const TESTDATA: &str = "testdata";

async fn start() -> Pharos {
    let px = Pharos::start_with(Database::fresh(Backend::Sqlite), Options::default()).await;
    let (s, b) = px
        .admin()
        .post(
            "/api/datasources",
            json!({"name": "TestData", "type": "grafana-testdata-datasource", "uid": TESTDATA}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    px
}

/// Two series that never change, host a at 5 and host b at 1, and host c with only nulls.
fn waves() -> Value {
    json!({
        "refId": "A",
        "datasourceUid": TESTDATA,
        "relativeTimeRange": {"from": 600, "to": 0},
        "model": {"scenarioId": "predictable_csv_wave", "csvWave": [
            {"timeStep": 10, "valuesCSV": "5,5", "labels": "host=a", "name": "a"},
            {"timeStep": 10, "valuesCSV": "1,1", "labels": "host=b", "name": "b"},
            {"timeStep": 10, "valuesCSV": "null,null", "labels": "host=c", "name": "c"}
        ]}
    })
}

fn reduce(ref_id: &str, of: &str) -> Value {
    json!({"refId": ref_id, "datasourceUid": "__expr__",
           "model": {"type": "reduce", "expression": of, "reducer": "last"}})
}

fn threshold(ref_id: &str, of: &str, above: f64) -> Value {
    json!({"refId": ref_id, "datasourceUid": "__expr__",
           "model": {"type": "threshold", "expression": of,
                     "conditions": [{"evaluator": {"type": "gt", "params": [above]}}]}})
}

fn by_host(instances: &Value) -> Vec<(String, String, Value)> {
    let mut list: Vec<(String, String, Value)> = instances
        .as_array()
        .expect("instances is a list")
        .iter()
        .map(|i| {
            (
                i["labels"]["host"].as_str().unwrap_or("").to_string(),
                i["state"].as_str().unwrap().to_string(),
                i["values"].clone(),
            )
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_answers_every_ref_id_and_the_instances_of_the_condition() {
    let px = start().await;
    let editor = px.user_with_role("ed", "Editor").await;
    let body = json!({
        "data": [waves(), reduce("B", "A"), threshold("C", "B", 3.0)],
        "condition": "C"
    });
    let (s, answer) = editor.post("/api/v1/eval", body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{answer}");

    // The query's frames, as /api/ds/query encodes them (refId in the schema, labels on the field).
    let a = &answer["results"]["A"];
    assert_eq!(a["status"], 200, "{a}");
    assert!(a.get("error").is_none(), "{a}");
    let frames = a["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 3, "{a}");
    assert_eq!(frames[0]["schema"]["refId"], "A");
    assert_eq!(
        frames[0]["schema"]["fields"][1]["labels"],
        json!({"host": "a"})
    );
    assert!(!frames[0]["data"]["values"][0]
        .as_array()
        .unwrap()
        .is_empty());

    // The same query through /api/ds/query: the very same frames.
    let mut ds_query = waves()["model"].clone();
    ds_query["refId"] = json!("A");
    ds_query["datasource"] = json!({"uid": TESTDATA});
    ds_query["intervalMs"] = json!(1000);
    ds_query["maxDataPoints"] = json!(43200);
    let (s, direct) = editor
        .post(
            "/api/ds/query",
            json!({"from": "now-10m", "to": "now", "queries": [ds_query]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{direct}");
    assert_eq!(
        direct["results"]["A"]["frames"][0]["schema"],
        frames[0]["schema"]
    );

    // Expressions as frames: one number per series.
    let b = &answer["results"]["B"];
    assert_eq!(b["status"], 200, "{b}");
    let numbers: Vec<(Value, Value)> = b["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["schema"]["refId"], "B");
            (
                f["schema"]["fields"][0]["labels"].clone(),
                f["data"]["values"][0][0].clone(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        vec![
            (json!({"host": "a"}), json!(5.0)),
            (json!({"host": "b"}), json!(1.0)),
            (json!({"host": "c"}), Value::Null),
        ]
    );
    assert_eq!(answer["results"]["C"]["status"], 200);

    // One instance per series of the condition, in its state now.
    assert_eq!(
        by_host(&answer["instances"]),
        vec![
            ("a".into(), "Alerting".into(), json!({"B": 5.0, "C": 1.0})),
            ("b".into(), "Normal".into(), json!({"B": 1.0, "C": 0.0})),
            ("c".into(), "NoData".into(), json!({"B": null, "C": null})),
        ]
    );

    // Without a condition: the results only.
    let mut no_condition = body.clone();
    no_condition.as_object_mut().unwrap().remove("condition");
    let (s, answer) = editor.post("/api/v1/eval", no_condition).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert!(answer.get("instances").is_none(), "{answer}");
    assert_eq!(answer["results"].as_object().unwrap().len(), 3, "{answer}");

    // A condition over a math expression with no labels: one instance.
    let (s, answer) = editor
        .post(
            "/api/v1/eval",
            json!({"data": [waves(), reduce("B", "A"),
                            {"refId": "M", "datasourceUid": "__expr__",
                             "model": {"type": "math", "expression": "1 > 0"}}],
                   "condition": "M"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(answer["instances"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["instances"][0]["state"], "Alerting");
    assert_eq!(answer["instances"][0]["labels"], json!({}));

    // Viewers may not preview (Grafana: alert.rules:write); anonymous is 401.
    let viewer = px.user_with_role("vi", "Viewer").await;
    let (s, _) = viewer.post("/api/v1/eval", body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = px.anonymous().post("/api/v1/eval", body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_query_marks_its_result_and_the_condition_is_error_or_no_data() {
    let px = start().await;
    let admin = px.admin();
    let failing = json!({"refId": "A", "datasourceUid": TESTDATA,
                         "relativeTimeRange": {"from": 600, "to": 0},
                         "model": {"scenarioId": "server_error_500"}});
    let working = json!({"refId": "Z", "datasourceUid": TESTDATA,
                         "relativeTimeRange": {"from": 600, "to": 0},
                         "model": {"scenarioId": "csv_metric_values", "stringInput": "1,2,3"}});
    let (s, answer) = admin
        .post(
            "/api/v1/eval",
            json!({"data": [failing, working, reduce("B", "A"), threshold("C", "B", 3.0)],
                   "condition": "C"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let a = &answer["results"]["A"];
    assert_eq!(a["status"], 400, "{a}");
    assert!(
        a["error"].as_str().unwrap().contains("server_error_500"),
        "{a}"
    );
    assert_eq!(answer["results"]["Z"]["status"], 200, "{answer}");
    assert_eq!(answer["results"]["B"]["error"], "A has no result");
    assert_eq!(answer["results"]["C"]["error"], "B has no result");
    let instances = answer["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1, "{answer}");
    assert_eq!(instances[0]["state"], "Error");
    assert_eq!(instances[0]["labels"], json!({}));

    // No data at all: one NoData instance.
    let (s, answer) = admin
        .post(
            "/api/v1/eval",
            json!({"data": [{"refId": "A", "datasourceUid": TESTDATA,
                             "relativeTimeRange": {"from": 600, "to": 0},
                             "model": {"scenarioId": "no_data_points"}},
                            reduce("B", "A"), threshold("C", "B", 3.0)],
                   "condition": "C"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(answer["results"]["A"]["frames"], json!([]));
    assert_eq!(
        answer["instances"],
        json!([{"labels": {}, "state": "NoData", "values": {}}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_400() {
    let px = start().await;
    let admin = px.admin();
    let cases = [
        (json!({"data": []}), "no queries"),
        (json!({"data": [waves()], "condition": "X"}), "condition X"),
        (
            json!({"data": [waves(), reduce("B", "C"), reduce("C", "B")], "condition": "C"}),
            "cycle",
        ),
        (
            json!({"data": [waves(), reduce("B", "Q")], "condition": "B"}),
            "refers to Q",
        ),
        (
            json!({"data": [waves(), {"refId": "B", "datasourceUid": "__expr__",
                                      "model": {"type": "bogus"}}]}),
            "unknown type",
        ),
        (
            json!({"data": [{"refId": "A", "datasourceUid": "nope",
                             "relativeTimeRange": {"from": 60, "to": 0}, "model": {}}]}),
            "data source \"nope\" not found",
        ),
        (
            json!({"data": [waves(), waves()]}),
            "refId A is used more than once",
        ),
        (json!({"data": "A"}), ""),
    ];
    for (body, expected) in cases {
        let (s, answer) = admin.post("/api/v1/eval", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(expected) && !message.is_empty(),
            "{body}: {message:?} should say {expected:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_against_a_real_prometheus() {
    let prometheus = Prometheus::start(&[], Duration::from_secs(1)).await;
    let px = start().await;
    let admin = px.admin();
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "Prom", "type": "prometheus", "uid": "prom", "url": prometheus.url}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let query = |expr: &str| {
        json!({"refId": "A", "datasourceUid": "prom",
               "relativeTimeRange": {"from": 60, "to": 0},
               "model": {"expr": expr, "intervalMs": 1000, "maxDataPoints": 43200}})
    };
    let (s, answer) = admin
        .post(
            "/api/v1/eval",
            json!({"data": [query("label_replace(vector(7), \"host\", \"x\", \"\", \"\")"),
                            reduce("B", "A"), threshold("C", "B", 5.0)],
                   "condition": "C"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(answer["results"]["A"]["status"], 200, "{answer}");
    assert_eq!(
        answer["instances"],
        json!([{"labels": {"host": "x"}, "state": "Alerting", "values": {"B": 7.0, "C": 1.0}}])
    );

    // What Prometheus thinks of a broken query is that refId's error; the request is still 200.
    let (s, answer) = admin
        .post(
            "/api/v1/eval",
            json!({"data": [query("rate(up[5m]"), reduce("B", "A")], "condition": "B"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let error = answer["results"]["A"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("parse error"), "{answer}");
    assert_eq!(answer["instances"][0]["state"], "Error", "{answer}");
}

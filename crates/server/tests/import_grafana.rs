//! `pharos import-grafana`: from one running Pharos (speaking Grafana's API) into another, empty
//! one that keeps serving: folders, dashboards and datasources arrive as they were (secrets listed
//! for the user to fill in), a second run changes nothing, a changed dashboard is updated, and a
//! wrong token or URL fails with a clear message before anything is written.

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn import(target: &Database, url: &str, token: &str) -> (bool, String, String) {
    let out = std::process::Command::new(pharos_bin())
        .args(["import-grafana", "--url", url])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PHAROS_DATABASE_URL", &target.url)
        .env("PHAROS_LOG_LEVEL", "warn")
        .env("GRAFANA_TOKEN", token)
        .output()
        .expect("running pharos");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The line of the summary table for `kind`: created, updated, unchanged, failed.
fn tally(stdout: &str, kind: &str) -> [u64; 4] {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(kind))
        .unwrap_or_else(|| panic!("no {kind} line in {stdout}"));
    let numbers: Vec<u64> = line[kind.len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

/// What the import must reproduce: folders, dashboards (JSON without id and version, folder) and
/// datasources (without ids, versions and secrets' values), as the API shows them.
async fn contents(client: &Client) -> Value {
    let (s, folders) = client.get("/api/folders").await;
    assert_eq!(s, StatusCode::OK);
    let folders: Vec<Value> = folders
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!({"uid": f["uid"], "title": f["title"]}))
        .collect();
    let (s, hits) = client.get("/api/search?type=dash-db&limit=5000").await;
    assert_eq!(s, StatusCode::OK);
    let mut dashboards = serde_json::Map::new();
    for hit in hits.as_array().unwrap() {
        let uid = hit["uid"].as_str().unwrap();
        let (s, mut d) = client.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let body = d["dashboard"].as_object_mut().unwrap();
        body.remove("id");
        body.remove("version");
        dashboards.insert(
            uid.to_string(),
            json!({"dashboard": body, "folderUid": d["meta"]["folderUid"]}),
        );
    }
    let (s, datasources) = client.get("/api/datasources").await;
    assert_eq!(s, StatusCode::OK);
    let datasources: Vec<Value> = datasources
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut d = d.as_object().unwrap().clone();
            d.retain(|k, _| !matches!(k.as_str(), "id" | "version" | "readOnly"));
            Value::Object(d)
        })
        .collect();
    json!({"folders": folders, "dashboards": dashboards, "datasources": datasources})
}

async fn populate(px: &Pharos) {
    let admin = px.admin();
    for (uid, title) in [("imp-a", "Imported A"), ("imp-b", "Imported B")] {
        let (s, b) = admin
            .post("/api/folders", json!({"uid": uid, "title": title}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    for i in 0..30 {
        let folder = ["", "imp-a", "imp-b"][i % 3];
        let body = json!({"dashboard": {"uid": format!("imp-{i}"), "title": format!("Imported {i}"),
            "tags": ["imported", format!("n{i}")], "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": [{"name": "job", "type": "custom", "query": "a,b"}]},
            "panels": [{"id": 1, "type": "timeseries", "title": "Panel", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
                        "targets": [{"refId": "A", "expr": "up{job=\"$job\"}"}]}]},
            "folderUid": folder});
        let (s, b) = admin.post("/api/dashboards/db", body).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "uid": "imp-prom", "type": "prometheus",
            "access": "proxy", "url": "http://127.0.0.1:9090", "isDefault": true,
            "basicAuth": true, "basicAuthUser": "reader",
            "jsonData": {"timeInterval": "15s", "httpMethod": "POST"},
            "secureJsonData": {"basicAuthPassword": "not-exported"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = admin
        .post("/api/datasources", json!({"name": "TestData", "uid": "imp-testdata", "type": "grafana-testdata-datasource", "access": "proxy"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // An alert rule over TestData in a 30 s group.
    let rule = json!({"uid": "imp-rule", "title": "Imported rule", "folderUID": "imp-a", "ruleGroup": "imported group",
        "condition": "C", "for": "1m", "noDataState": "NoData", "execErrState": "Error",
        "labels": {"team": "ops"}, "annotations": {"summary": "{{ $values.B.Value }} is high"},
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "imp-testdata",
             "model": {"refId": "A", "scenarioId": "csv_metric_values", "stringInput": "1,2,3"}},
            {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "datasourceUid": "__expr__", "model": {"type": "threshold", "expression": "B", "refId": "C",
             "conditions": [{"evaluator": {"type": "gt", "params": [100]}}]}}]});
    let (s, b) = admin.post("/api/v1/provisioning/alert-rules", rule).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/imp-a/rule-groups/imported%20group",
            json!({"interval": 30, "rules": [b]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// The rule and its group as the API shows them, without what each server stamps itself.
async fn rule_of(client: &Client) -> Value {
    let (s, mut rule) = client
        .get("/api/v1/provisioning/alert-rules/imp-rule")
        .await;
    assert_eq!(s, StatusCode::OK, "{rule}");
    for key in ["updated", "version", "provenance"] {
        rule.as_object_mut().unwrap().remove(key);
    }
    let (s, group) = client
        .get("/api/v1/provisioning/folder/imp-a/rule-groups/imported%20group")
        .await;
    assert_eq!(s, StatusCode::OK, "{group}");
    json!({"rule": rule, "interval": group["interval"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_reproduces_a_server_and_a_second_run_changes_nothing() {
    let source = Pharos::start(Backend::Sqlite).await;
    populate(&source).await;
    let (_, _, token) = create_token(&source, "exporter", "Admin", None).await;
    let target = Pharos::start(Backend::Postgres).await;

    // A wrong token or an unreachable URL: a clear error, nothing written.
    let (ok, _, stderr) = import(&target.db, &source.url, "glsa_wrong");
    assert!(!ok && stderr.contains("401"), "{stderr}");
    let (ok, _, stderr) = import(&target.db, "http://127.0.0.1:9", &token);
    assert!(!ok && stderr.contains("does not answer"), "{stderr}");
    let (s, hits) = target.admin().get("/api/search").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hits, json!([]));

    let (ok, stdout, stderr) = import(&target.db, &source.url, &token);
    assert!(ok, "{stderr}");
    println!("{stdout}");
    assert_eq!(tally(&stdout, "folders"), [2, 0, 0, 0]);
    assert_eq!(tally(&stdout, "dashboards"), [30, 0, 0, 0]);
    assert_eq!(tally(&stdout, "datasources"), [2, 0, 0, 0]);
    assert_eq!(tally(&stdout, "alert rules"), [1, 0, 0, 0]);
    assert_eq!(
        rule_of(&source.admin()).await,
        rule_of(&target.admin()).await
    );
    assert!(
        stdout.contains("\"Prometheus\" (imp-prom): fill in its secrets")
            && stdout.contains("basicAuthPassword"),
        "{stdout}"
    );
    // The target served all along; its caches follow the change feed.
    let want = contents(&source.admin()).await;
    let mut got = contents(&target.admin()).await;
    for _ in 0..20 {
        if first_difference(&want, &got, "").is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        got = contents(&target.admin()).await;
    }
    if let Some(d) = first_difference(&want, &got, "") {
        panic!("the import differs from the source: {d}");
    }

    // Again: nothing changes, no new dashboard version.
    let (ok, stdout, stderr) = import(&target.db, &source.url, &token);
    assert!(ok, "{stderr}");
    assert_eq!(tally(&stdout, "folders"), [0, 0, 2, 0]);
    assert_eq!(tally(&stdout, "dashboards"), [0, 0, 30, 0]);
    assert_eq!(tally(&stdout, "datasources"), [0, 0, 2, 0]);
    assert_eq!(tally(&stdout, "alert rules"), [0, 0, 1, 0]);
    assert!(stdout.contains("nothing changed"), "{stdout}");
    let (_, versions) = target
        .admin()
        .get("/api/dashboards/uid/imp-4/versions")
        .await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        1,
        "{versions}"
    );

    // A dashboard changed at the source, a folder renamed: updated, the rest left alone.
    let (_, mut d) = source.admin().get("/api/dashboards/uid/imp-4").await;
    d["dashboard"]["title"] = json!("Imported 4, renamed");
    let (s, b) = source
        .admin()
        .post(
            "/api/dashboards/db",
            json!({"dashboard": d["dashboard"], "folderUid": "imp-b"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = source
        .admin()
        .put(
            "/api/folders/imp-a",
            json!({"title": "Imported A2", "overwrite": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (ok, stdout, stderr) = import(&target.db, &source.url, &token);
    assert!(ok, "{stderr}");
    assert_eq!(tally(&stdout, "folders"), [0, 1, 1, 0]);
    assert_eq!(tally(&stdout, "dashboards"), [0, 1, 29, 0]);
    let (_, moved) = target.admin().get("/api/dashboards/uid/imp-4").await;
    assert_eq!(moved["dashboard"]["title"], json!("Imported 4, renamed"));
    assert_eq!(moved["meta"]["folderUid"], json!("imp-b"));
}

//! Provisioning from files: datasources and dashboards appear after start, edits are applied on
//! the interval, unchanged files add no version, a removed file deletes its dashboard but an
//! unreadable directory or a broken file deletes nothing, provisioned objects are read-only in the
//! API; and ten PostgreSQL replicas starting together provision exactly one copy of everything, and
//! restarting together with the dashboards folder unreadable delete nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn dashboard_json(uid: Option<&str>, title: &str) -> String {
    let mut d = json!({"title": title, "panels": [], "schemaVersion": 39, "tags": ["prov"]});
    if let Some(uid) = uid {
        d["uid"] = json!(uid);
    }
    serde_json::to_string_pretty(&d).unwrap()
}

/// Polls `check` every 200 ms until it returns true or `timeout` passes.
async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dashboard(px: &Pharos, uid: &str) -> (StatusCode, Value) {
    px.admin().get(&format!("/api/dashboards/uid/{uid}")).await
}

async fn search_titles(px: &Pharos) -> Vec<String> {
    let (s, body) = px.admin().get("/api/search?type=dash-db").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let mut titles: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles
}

/// A provisioning directory: two datasources, a provider `main` (folder "Provisioned", three
/// dashboards, one without a uid) and a provider `open` with `allowUiUpdates`.
fn layout(root: &Path) -> (PathBuf, PathBuf) {
    let main = root.join("dash-main");
    let open = root.join("dash-open");
    write(
        &root.join("provisioning/datasources/ds.yaml"),
        r#"apiVersion: 1
datasources:
  - name: Prom
    type: prometheus
    uid: prov-prom
    url: http://127.0.0.1:${PROV_PORT}
    isDefault: true
    basicAuth: true
    basicAuthUser: $PROV_USER
    secureJsonData:
      basicAuthPassword: pa$$word
  - name: Test
    type: grafana-testdata-datasource
    uid: prov-test
    editable: true
"#,
    );
    write(
        &root.join("provisioning/dashboards/providers.yml"),
        &format!(
            r#"apiVersion: 1
providers:
  - name: main
    folder: Provisioned
    type: file
    updateIntervalSeconds: 1
    options:
      path: {}
  - name: open
    allowUiUpdates: true
    updateIntervalSeconds: 1
    options:
      path: {}
"#,
            main.display(),
            open.display()
        ),
    );
    write(&main.join("a.json"), &dashboard_json(Some("prov-a"), "A"));
    write(&main.join("b.json"), &dashboard_json(Some("prov-b"), "B"));
    write(&main.join("sub/c.json"), &dashboard_json(None, "C"));
    write(&open.join("e.json"), &dashboard_json(Some("prov-e"), "E"));
    (main, open)
}

fn options(root: &Path) -> Options {
    Options::default()
        .env(
            "PHAROS_PATHS_PROVISIONING",
            &root.join("provisioning").display().to_string(),
        )
        .env("PROV_PORT", "9091")
        .env("PROV_USER", "scraper")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_are_provisioned_kept_in_step_and_protected() {
    let root = scratch_dir("pharos-prov");
    let (main, _open) = layout(&root);
    let px = Pharos::start_with(Database::fresh(Backend::Sqlite), options(&root)).await;
    let admin = px.admin();

    eventually("four dashboards", Duration::from_secs(20), || async {
        search_titles(&px).await == ["A", "B", "C", "E"]
    })
    .await;
    eventually("two datasources", Duration::from_secs(20), || async {
        admin
            .get("/api/datasources")
            .await
            .1
            .as_array()
            .map(Vec::len)
            == Some(2)
    })
    .await;

    // Datasources: values expanded, the secret encrypted and reported as set, read-only unless
    // editable.
    let (s, prom) = admin.get("/api/datasources/uid/prov-prom").await;
    assert_eq!(s, StatusCode::OK, "{prom}");
    assert_eq!(prom["url"], "http://127.0.0.1:9091");
    assert_eq!(prom["basicAuthUser"], "scraper");
    assert_eq!(prom["secureJsonFields"]["basicAuthPassword"], true);
    assert_eq!(prom["readOnly"], true);
    assert_eq!(prom["isDefault"], true);
    let (_, test) = admin.get("/api/datasources/uid/prov-test").await;
    assert_eq!(test["readOnly"], false);
    let (s, body) = admin
        .put(
            "/api/datasources/uid/prov-prom",
            json!({"name": "Prom", "type": "prometheus"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = admin.delete("/api/datasources/uid/prov-prom").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");

    // Dashboards: in their folder, flagged provisioned, version 1.
    let (s, a) = dashboard(&px, "prov-a").await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["meta"]["folderTitle"], "Provisioned");
    assert_eq!(a["meta"]["provisioned"], true);
    assert_eq!(a["meta"]["provisionedExternalId"], "a.json");
    assert_eq!(a["dashboard"]["version"], 1);
    let (_, e) = dashboard(&px, "prov-e").await;
    assert_eq!(
        e["meta"]["provisioned"], false,
        "allowUiUpdates is not flagged"
    );
    assert_eq!(e["meta"]["folderTitle"], "General");

    // API writes to a provisioned dashboard are refused; with allowUiUpdates they are not.
    let mut edited = a["dashboard"].clone();
    edited["title"] = json!("A by hand");
    let (s, body) = admin
        .post(
            "/api/dashboards/db",
            json!({"dashboard": edited, "overwrite": true}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Cannot save provisioned dashboard");
    let by_id = json!({"id": a["dashboard"]["id"], "title": "A by id", "version": 1});
    let (s, body) = admin
        .post("/api/dashboards/db", json!({"dashboard": by_id}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "saving by id: {body}");
    let (s, body) = admin.delete("/api/dashboards/uid/prov-a").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "provisioned dashboard cannot be deleted");
    let mut e_edit = e["dashboard"].clone();
    e_edit["title"] = json!("E by hand");
    let (s, body) = admin
        .post("/api/dashboards/db", json!({"dashboard": e_edit}))
        .await;
    assert_eq!(s, StatusCode::OK, "allowUiUpdates: {body}");

    // Unchanged files are not saved again: several intervals later A is still at version 1, and
    // the UI edit of E stays (its file did not change).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, a) = dashboard(&px, "prov-a").await;
    assert_eq!(
        a["dashboard"]["version"], 1,
        "an unchanged file made a new version"
    );
    let (_, versions) = admin.get("/api/dashboards/uid/prov-a/versions").await;
    assert_eq!(
        versions["versions"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );
    assert_eq!(
        dashboard(&px, "prov-e").await.1["dashboard"]["title"],
        "E by hand"
    );

    // An edited file is applied on the next interval.
    write(&main.join("a.json"), &dashboard_json(Some("prov-a"), "A2"));
    eventually("the edit of a.json", Duration::from_secs(10), || async {
        dashboard(&px, "prov-a").await.1["dashboard"]["title"] == "A2"
    })
    .await;
    assert_eq!(dashboard(&px, "prov-a").await.1["dashboard"]["version"], 2);

    // The provider's directory unreadable (renamed away) with b.json gone: nothing is deleted.
    let aside = root.join("dash-main-aside");
    std::fs::rename(&main, &aside).unwrap();
    std::fs::remove_file(aside.join("b.json")).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(search_titles(&px).await, ["A2", "B", "C", "E by hand"]);

    // Back, but with a file that does not parse: still nothing is deleted.
    std::fs::rename(&aside, &main).unwrap();
    write(&main.join("broken.json"), "{\"title\": ");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(search_titles(&px).await, ["A2", "B", "C", "E by hand"]);

    // Once every file reads, the dashboard of the removed file goes.
    std::fs::remove_file(main.join("broken.json")).unwrap();
    eventually("b deleted", Duration::from_secs(10), || async {
        dashboard(&px, "prov-b").await.0 == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(search_titles(&px).await, ["A2", "C", "E by hand"]);

    let errors = px.error_lines();
    assert!(
        errors
            .iter()
            .all(|l| l.contains("dash-main") || l.contains("broken.json")),
        "unexpected errors:\n{}",
        errors.join("\n")
    );
    // A persisting problem is logged once, not on every one-second re-scan.
    let count = |needle: &str| errors.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("broken.json"), 1, "{errors:#?}");
    assert_eq!(
        count("cannot read the dashboards directory"),
        1,
        "{errors:#?}"
    );
    drop(px);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_postgres_replicas_starting_together_provision_one_copy_of_everything() {
    let root = scratch_dir("pharos-prov-ha");
    let dash = root.join("dash");
    let mut ds = String::from("apiVersion: 1\ndatasources:\n");
    for i in 0..5 {
        ds.push_str(&format!(
            "  - name: DS {i}\n    type: prometheus\n    url: http://127.0.0.1:{}\n    secureJsonData:\n      basicAuthPassword: secret{i}\n",
            9000 + i
        ));
    }
    write(&root.join("provisioning/datasources/ds.yaml"), &ds);
    write(
        &root.join("provisioning/dashboards/all.yaml"),
        &format!(
            "apiVersion: 1\nproviders:\n  - name: fleet\n    folder: Fleet\n    updateIntervalSeconds: 1\n    options:\n      path: {}\n",
            dash.display()
        ),
    );
    for i in 0..50 {
        // Half with a uid, half keyed by their path.
        let uid = format!("fleet-{i}");
        let uid = (i % 2 == 0).then_some(uid.as_str());
        write(
            &dash.join(format!("d{i:02}.json")),
            &dashboard_json(uid, &format!("Fleet {i:02}")),
        );
    }
    let db = Database::fresh(Backend::Postgres);
    let options = Options::default().env(
        "PHAROS_PATHS_PROVISIONING",
        &root.join("provisioning").display().to_string(),
    );
    let replicas: Vec<Pharos> = join_all(
        (0..10)
            .map(|_| Pharos::try_start(db.clone(), options.clone()))
            .collect(),
    )
    .await
    .into_iter()
    .enumerate()
    .map(|(i, r)| r.unwrap_or_else(|e| panic!("replica {i}: {e}")))
    .collect();

    let count = |sql: &str| -> i64 {
        psql_at(&db.url, sql)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let start = Instant::now();
    while count("select count(*) from dashboards") < 50
        || count("select count(*) from datasources") < 5
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not provisioned in time"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A few more intervals: still one copy of each, and not one extra version.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(count("select count(*) from dashboards"), 50);
    assert_eq!(count("select count(distinct uid) from dashboards"), 50);
    assert_eq!(count("select count(*) from dashboard_versions"), 50);
    assert_eq!(count("select count(*) from datasources"), 5);
    assert_eq!(count("select count(*) from folders"), 1);
    assert_eq!(count("select count(*) from provisioned"), 55);
    // Every replica answers the same.
    for px in &replicas {
        assert_eq!(search_titles(px).await.len(), 50);
        let (s, list) = px.admin().get("/api/datasources").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(5));
    }
    for (i, px) in replicas.iter().enumerate() {
        let errors = px.error_lines();
        assert!(
            errors.is_empty(),
            "replica {i} logged errors:\n{}",
            errors.join("\n")
        );
    }
    drop(replicas);

    // All ten restart while the dashboards folder is unreadable (renamed away, as a volume that
    // failed to mount): nothing is deleted, however many replicas scan it.
    let aside = root.join("dash-aside");
    std::fs::rename(&dash, &aside).unwrap();
    let replicas: Vec<Pharos> = join_all(
        (0..10)
            .map(|_| Pharos::try_start(db.clone(), options.clone()))
            .collect(),
    )
    .await
    .into_iter()
    .enumerate()
    .map(|(i, r)| r.unwrap_or_else(|e| panic!("replica {i} after the restart: {e}")))
    .collect();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(count("select count(*) from dashboards"), 50);
    assert_eq!(count("select count(*) from datasources"), 5);
    assert_eq!(count("select count(*) from provisioned"), 55);
    assert_eq!(search_titles(&replicas[0]).await.len(), 50);
    for (i, px) in replicas.iter().enumerate() {
        let unexpected: Vec<String> = px
            .error_lines()
            .into_iter()
            .filter(|l| !l.contains("dash"))
            .collect();
        assert!(
            unexpected.is_empty(),
            "replica {i} logged errors other than the unreadable folder:\n{}",
            unexpected.join("\n")
        );
    }
    drop(replicas);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn folders_from_the_file_structure_and_disable_deletion() {
    let root = scratch_dir("pharos-prov-tree");
    let dash = root.join("tree");
    write(
        &root.join("provisioning/dashboards/tree.yaml"),
        &format!(
            "apiVersion: 1\nproviders:\n  - name: tree\n    disableDeletion: true\n    updateIntervalSeconds: 1\n    options:\n      path: {}\n      foldersFromFilesStructure: true\n",
            dash.display()
        ),
    );
    write(
        &dash.join("top.json"),
        &dashboard_json(Some("t-top"), "Top"),
    );
    write(
        &dash.join("team-x/x.json"),
        &dashboard_json(Some("t-x"), "X"),
    );
    write(
        &dash.join("team-y/deep/y.json"),
        &dashboard_json(Some("t-y"), "Y"),
    );
    let px = Pharos::start_with(Database::fresh(Backend::Sqlite), options(&root)).await;
    eventually("three dashboards", Duration::from_secs(20), || async {
        search_titles(&px).await.len() == 3
    })
    .await;
    let folder = |body: &Value| body["meta"]["folderTitle"].as_str().unwrap().to_string();
    assert_eq!(folder(&dashboard(&px, "t-top").await.1), "General");
    assert_eq!(folder(&dashboard(&px, "t-x").await.1), "team-x");
    assert_eq!(folder(&dashboard(&px, "t-y").await.1), "deep");

    // disableDeletion: the file goes, the dashboard stays and is no longer provisioned.
    std::fs::remove_file(dash.join("team-x/x.json")).unwrap();
    eventually("x unprovisioned", Duration::from_secs(10), || async {
        dashboard(&px, "t-x").await.1["meta"]["provisioned"] == false
    })
    .await;
    let (s, body) = px.admin().delete("/api/dashboards/uid/t-x").await;
    assert_eq!(
        s,
        StatusCode::OK,
        "no longer provisioned, so deletable: {body}"
    );
    assert_eq!(search_titles(&px).await, ["Top", "Y"]);
    assert!(px.error_lines().is_empty(), "{:?}", px.error_lines());
    drop(px);
    let _ = std::fs::remove_dir_all(&root);
}

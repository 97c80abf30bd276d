//! Every dashboard in the shared fixtures (`../shared/fixtures/dashboards/*.json`, or
//! `PHAROS_FIXTURES_DIR`) survives create → get, save-what-you-got → get, and import → get with
//! every field it had, in its order. Only `id`, `uid` and `version` are the server's.

use std::path::PathBuf;

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    match std::env::var("PHAROS_FIXTURES_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/dashboards")
        }
    }
}

/// Every fixture by file name, parsed with its key order.
fn fixtures() -> Vec<(String, Value)> {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures directory {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                value.is_object(),
                "{} is not a dashboard object",
                path.display()
            );
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            )
        })
        .collect()
}

fn assert_same(name: &str, step: &str, sent: &Value, got: &Value) {
    if let Some(diff) = first_difference(
        &without_server_fields(sent),
        &without_server_fields(got),
        "$",
    ) {
        panic!("{name} ({step}) changed: {diff}");
    }
}

backend_matrix!(
    fixtures_survive_create_update_and_get,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        for (name, fixture) in fixtures() {
            // As Grafana's docs say for a new dashboard: `id` null. The exported uid is kept.
            let mut sent = fixture.clone();
            sent["id"] = Value::Null;
            let (status, saved) = admin
                .post(
                    "/api/dashboards/db",
                    json!({"dashboard": sent, "message": format!("fixture {name}")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{name}: {saved}");
            assert_eq!(saved["version"], 1, "{name}");
            let uid = saved["uid"].as_str().unwrap().to_string();
            if let Some(exported) = fixture["uid"].as_str().filter(|u| !u.is_empty()) {
                assert_eq!(uid, exported, "{name}: the exported uid was not kept");
            }

            let got = get_dashboard(&admin, &uid).await;
            let stored = &got["dashboard"];
            assert_same(&name, "create", &fixture, stored);
            assert_eq!(stored["id"], saved["id"], "{name}");
            assert_eq!(stored["uid"], uid.as_str(), "{name}");
            assert_eq!(stored["version"], 1, "{name}");
            assert_eq!(got["meta"]["version"], 1, "{name}");
            if let Some(title) = fixture["title"].as_str() {
                assert_eq!(got["meta"]["slug"], saved["slug"], "{name}");
                assert_eq!(
                    got["meta"]["url"],
                    format!("/d/{uid}/{}", saved["slug"].as_str().unwrap()),
                    "{name} {title}"
                );
            }

            // The version history holds the same JSON.
            let (status, v1) = admin
                .get(&format!("/api/dashboards/uid/{uid}/versions/1"))
                .await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert_same(&name, "version 1", &fixture, &v1["data"]);
            assert_eq!(v1["message"], format!("fixture {name}"));

            // What a UI does: save back what it got (with its version), unchanged.
            let (status, resaved) = admin
                .post(
                    "/api/dashboards/db",
                    json!({"dashboard": stored, "folderUid": ""}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{name}: {resaved}");
            assert_eq!(resaved["version"], 2, "{name}");
            assert_eq!(resaved["id"], saved["id"], "{name}");
            let again = get_dashboard(&admin, &uid).await;
            assert_same(
                &name,
                "save of what was read",
                &fixture,
                &again["dashboard"],
            );
            assert_eq!(again["dashboard"]["version"], 2, "{name}");

            // Tags are searchable as the fixture names them.
            if let Some(tags) = fixture["tags"].as_array().filter(|t| !t.is_empty()) {
                let tag = tags[0].as_str().unwrap();
                let (status, hits) = admin
                    .get(&format!(
                        "/api/search?dashboardUIDs={uid}&tag={}",
                        url_encode(tag)
                    ))
                    .await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(hits.as_array().map(Vec::len), Some(1), "{name}: {hits}");
            }
        }
    }
);

backend_matrix!(fixtures_survive_import, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (status, folder) = admin
        .post(
            "/api/folders",
            json!({"uid": "imports", "title": "Imports"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{folder}");
    for (name, fixture) in fixtures() {
        // Imported as exported, id and all: the import drops the foreign id.
        let (status, imported) = admin
            .post(
                "/api/dashboards/import",
                json!({"dashboard": fixture, "overwrite": true, "inputs": [], "folderUid": "imports"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {imported}");
        assert_eq!(imported["imported"], true, "{name}");
        let uid = imported["uid"].as_str().unwrap().to_string();
        if let Some(exported) = fixture["uid"].as_str().filter(|u| !u.is_empty()) {
            assert_eq!(uid, exported, "{name}");
        }
        let got = get_dashboard(&admin, &uid).await;
        let stored = &got["dashboard"];
        let mut expected = fixture.clone();
        // Import fills and removes `__inputs`; the fixtures are expected to need none.
        if let Some(map) = expected.as_object_mut() {
            map.shift_remove("__inputs");
        }
        assert_same(&name, "import", &expected, stored);
        assert_eq!(stored["id"], imported["dashboardId"], "{name}");
        assert_eq!(stored["version"], 1, "{name}");
        assert_eq!(got["meta"]["folderUid"], "imports", "{name}");

        // Importing again overwrites it as the next version, still unchanged.
        let (status, imported) = admin
            .post(
                "/api/dashboards/import",
                json!({"dashboard": fixture, "overwrite": true, "inputs": [], "folderUid": "imports"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {imported}");
        let got = get_dashboard(&admin, &uid).await;
        assert_same(&name, "second import", &expected, &got["dashboard"]);
        assert_eq!(got["dashboard"]["version"], 2, "{name}");
    }
});

backend_matrix!(
    fixtures_raw_body_keeps_the_sent_text,
    |backend| async move {
        // Beyond value equality: in the body a client reads, every top-level field of the fixture is
        // the same compact JSON text (nested key order, number spelling) as the fixture's own.
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        for (name, fixture) in fixtures() {
            let sent = without_server_fields(&fixture);
            let (status, saved) = admin
                .post("/api/dashboards/db", json!({"dashboard": sent}))
                .await;
            assert_eq!(status, StatusCode::OK, "{name}: {saved}");
            let uid = saved["uid"].as_str().unwrap();
            let resp = admin
                .request(reqwest::Method::GET, &format!("/api/dashboards/uid/{uid}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let raw = resp.text().await.unwrap();
            // The compact text of every top-level field but the server's appears verbatim.
            for (key, value) in sent.as_object().unwrap() {
                let piece = format!("{}:{}", Value::String(key.clone()), value);
                assert!(
                    raw.contains(&piece),
                    "{name}: field {key} is not spelled as sent"
                );
            }
            // Cleanup, so the next fixture starts from an empty org.
            let (status, _) = admin.delete(&format!("/api/dashboards/uid/{uid}")).await;
            assert_eq!(status, StatusCode::OK);
        }
    }
);

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! Grafana's dashboard API: `POST /api/dashboards/db`, get and delete by uid, versions and restore,
//! tags, home, import, the JSON kept as sent, roles, and concurrent saves. Every case runs against
//! SQLite and PostgreSQL.

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Creates a dashboard in General from its JSON.
async fn create(client: &Client, dashboard: Value) -> Value {
    save_ok(client, json!({ "dashboard": dashboard })).await
}

fn versions_of(body: &Value) -> Vec<i64> {
    body["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("no versions array: {body}"))
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect()
}

fn is_rfc3339(s: &str) -> bool {
    // 2026-11-25T15:10:00Z or with an offset / fraction.
    s.len() >= 20
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[10] == b'T'
        && s[..4].parse::<u32>().is_ok()
}

backend_matrix!(
    create_generates_a_uid_and_answers_grafanas_fields,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let resp = save_ok(
        &admin,
        json!({
            "dashboard": {"id": null, "uid": null, "title": "Production Overview", "tags": ["templated"],
                          "timezone": "browser", "schemaVersion": 16, "version": 0},
            "folderUid": "",
            "overwrite": false
        }),
    )
    .await;
        let uid = resp["uid"].as_str().unwrap().to_string();
        assert!(is_valid_uid(&uid), "generated uid {uid:?}");
        let id = resp["id"].as_i64().unwrap();
        assert!(id > 0, "{resp}");
        assert_eq!(resp["status"], "success");
        assert_eq!(resp["version"], 1);
        assert_eq!(resp["slug"], "production-overview");
        assert_eq!(resp["url"], format!("/d/{uid}/production-overview"));

        // The stored JSON carries the server's id, uid and version.
        let got = get_dashboard(&admin, &uid).await;
        assert_eq!(got["dashboard"]["id"], id);
        assert_eq!(got["dashboard"]["uid"], uid.as_str());
        assert_eq!(got["dashboard"]["version"], 1);
        assert_eq!(got["dashboard"]["title"], "Production Overview");

        // Each create without a uid gets its own uid.
        let other = create(&admin, json!({"title": "Another"})).await;
        let other_uid = other["uid"].as_str().unwrap();
        assert!(is_valid_uid(other_uid));
        assert_ne!(other_uid, uid);
        assert_ne!(other["id"], resp["id"]);

        // A given uid is kept, up to 40 characters; `-` and `_` are legal.
        let forty = format!("abc-DEF_{}", "x".repeat(32));
        assert_eq!(forty.len(), 40);
        let mine = create(&admin, json!({"uid": forty, "title": "Given uid"})).await;
        assert_eq!(mine["uid"], forty.as_str());
        assert_eq!(mine["url"], format!("/d/{forty}/given-uid"));
        assert_eq!(
            get_dashboard(&admin, &forty).await["dashboard"]["uid"],
            forty.as_str()
        );
    }
);

backend_matrix!(
    update_with_the_right_version_and_stale_versions,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let created = create(
            &admin,
            json!({"uid": "upd", "title": "Updates", "panels": []}),
        )
        .await;
        let id = created["id"].as_i64().unwrap();

        // The right version: saved as version + 1, same id and uid.
        let resp = create(
            &admin,
            json!({"uid": "upd", "title": "Updates", "version": 1, "panels": [{"id": 1}]}),
        )
        .await;
        assert_eq!(resp["version"], 2);
        assert_eq!(resp["id"], id);
        assert_eq!(resp["uid"], "upd");
        assert_eq!(resp["status"], "success");
        // By id as well as by uid.
        let resp = create(
        &admin,
        json!({"id": id, "uid": "upd", "title": "Updates", "version": 2, "panels": [{"id": 2}]}),
    )
    .await;
        assert_eq!(resp["version"], 3);

        // A stale version, a future version and no version at all are conflicts.
        for stale in [json!(1), json!(2), json!(7), Value::Null] {
            let (status, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"uid": "upd", "title": "Updates", "version": stale, "panels": [{"id": 99}]}}),
            )
            .await;
            assert_error(status, &body, StatusCode::PRECONDITION_FAILED);
            assert_eq!(body["status"], "version-mismatch", "{body}");
        }
        // Nothing of the refused saves was written.
        let got = get_dashboard(&admin, "upd").await;
        assert_eq!(got["dashboard"]["version"], 3);
        assert_eq!(got["dashboard"]["panels"], json!([{"id": 2}]));
        assert_eq!(got["meta"]["version"], 3);

        // `overwrite` wins over a stale version.
        let resp = save_ok(
        &admin,
        json!({"dashboard": {"uid": "upd", "title": "Updates", "version": 1, "panels": [{"id": 3}]}, "overwrite": true}),
    )
    .await;
        assert_eq!(resp["version"], 4);
        assert_eq!(resp["id"], id);
        let got = get_dashboard(&admin, "upd").await;
        assert_eq!(got["dashboard"]["version"], 4);
        assert_eq!(got["dashboard"]["panels"], json!([{"id": 3}]));

        // A title change renames the slug and url.
        let resp = create(
            &admin,
            json!({"uid": "upd", "title": "Renamed Board", "version": 4}),
        )
        .await;
        assert_eq!(resp["slug"], "renamed-board");
        assert_eq!(resp["url"], "/d/upd/renamed-board");
        let got = get_dashboard(&admin, "upd").await;
        assert_eq!(got["meta"]["slug"], "renamed-board");

        // An id that does not exist is not silently created.
        let (status, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"id": 987654, "title": "Ghost"}}),
            )
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
    }
);

backend_matrix!(
    same_title_in_the_same_folder_is_name_exists,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let first = create(&admin, json!({"title": "Twins", "panels": [{"id": 1}]})).await;

        let (status, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "Twins"}}),
            )
            .await;
        assert_error(status, &body, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["status"], "name-exists", "{body}");
        // With a uid of its own, too.
        let (status, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"uid": "twin-b", "title": "Twins"}}),
            )
            .await;
        assert_error(status, &body, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["status"], "name-exists", "{body}");
        let (status, _) = admin.get("/api/dashboards/uid/twin-b").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Renaming another dashboard onto the title is refused as well.
        create(&admin, json!({"uid": "third", "title": "Third"})).await;
        let (status, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"uid": "third", "title": "Twins", "version": 1}}),
            )
            .await;
        assert_error(status, &body, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["status"], "name-exists", "{body}");

        // The same title in another folder is fine.
        let (status, folder) = admin
            .post("/api/folders", json!({"uid": "f1", "title": "Elsewhere"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{folder}");
        let other = save_ok(
            &admin,
            json!({"dashboard": {"title": "Twins"}, "folderUid": "f1"}),
        )
        .await;
        assert_ne!(other["uid"], first["uid"]);

        // `overwrite` replaces the same-titled dashboard in place.
        let resp = save_ok(
            &admin,
            json!({"dashboard": {"title": "Twins", "panels": [{"id": 2}]}, "overwrite": true}),
        )
        .await;
        assert_eq!(resp["uid"], first["uid"]);
        assert_eq!(resp["id"], first["id"]);
        assert_eq!(resp["version"], 2);
        let got = get_dashboard(&admin, first["uid"].as_str().unwrap()).await;
        assert_eq!(got["dashboard"]["panels"], json!([{"id": 2}]));
        let (_, hits) = admin.get("/api/search?query=Twins&type=dash-db").await;
        assert_eq!(hits.as_array().unwrap().len(), 2, "{hits}");
    }
);

backend_matrix!(
    folder_uid_places_and_moves_dashboards,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let (status, folder) = admin
            .post("/api/folders", json!({"uid": "ops", "title": "Ops Team"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{folder}");

        let resp = save_ok(
        &admin,
        json!({"dashboard": {"uid": "in-ops", "title": "In Ops"}, "folderUid": "ops", "message": "first"}),
    )
    .await;
        assert_eq!(resp["folderUid"], "ops");
        let got = get_dashboard(&admin, "in-ops").await;
        assert_eq!(got["meta"]["folderUid"], "ops");
        assert_eq!(got["meta"]["folderTitle"], "Ops Team");
        assert_eq!(got["meta"]["folderId"], folder["id"]);
        assert_eq!(got["meta"]["folderUrl"], "/dashboards/f/ops/ops-team");

        // The legacy numeric folderId works too.
        let resp = save_ok(
            &admin,
            json!({"dashboard": {"uid": "by-id", "title": "By Id"}, "folderId": folder["id"]}),
        )
        .await;
        assert_eq!(resp["folderUid"], "ops");

        // A folder that does not exist: 400, and nothing is created.
        for body in [
            json!({"dashboard": {"uid": "lost", "title": "Lost"}, "folderUid": "no-such-folder"}),
            json!({"dashboard": {"uid": "lost", "title": "Lost"}, "folderId": 424242}),
        ] {
            let (status, resp) = admin.post("/api/dashboards/db", body).await;
            assert_error(status, &resp, StatusCode::BAD_REQUEST);
        }
        let (status, _) = admin.get("/api/dashboards/uid/lost").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // An update without a folder moves the dashboard to General, as Grafana documents.
        let resp = create(
            &admin,
            json!({"uid": "in-ops", "title": "In Ops", "version": 1}),
        )
        .await;
        assert_eq!(resp["version"], 2);
        let got = get_dashboard(&admin, "in-ops").await;
        assert_eq!(got["meta"]["folderUid"], "");
        assert_eq!(got["meta"]["folderTitle"], "General");
        assert_eq!(got["meta"]["folderId"], 0);

        // And back into the folder with folderUid.
        save_ok(
        &admin,
        json!({"dashboard": {"uid": "in-ops", "title": "In Ops", "version": 2}, "folderUid": "ops"}),
    )
    .await;
        let got = get_dashboard(&admin, "in-ops").await;
        assert_eq!(got["meta"]["folderUid"], "ops");
        assert_eq!(got["meta"]["version"], 3);
    }
);

backend_matrix!(
    invalid_saves_are_400_and_write_nothing,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let too_long = "a".repeat(41);
        let cases = [
            (
                "uid of 41 characters",
                json!({"dashboard": {"uid": too_long, "title": "Long uid"}}),
            ),
            (
                "uid with a space",
                json!({"dashboard": {"uid": "has space", "title": "Bad uid 1"}}),
            ),
            (
                "uid with a slash",
                json!({"dashboard": {"uid": "a/b", "title": "Bad uid 2"}}),
            ),
            (
                "uid with a dot",
                json!({"dashboard": {"uid": "a.b", "title": "Bad uid 3"}}),
            ),
            (
                "uid with unicode",
                json!({"dashboard": {"uid": "tschüss", "title": "Bad uid 4"}}),
            ),
            (
                "uid that is a number",
                json!({"dashboard": {"uid": 12, "title": "Bad uid 5"}}),
            ),
            (
                "empty title",
                json!({"dashboard": {"uid": "t1", "title": ""}}),
            ),
            (
                "blank title",
                json!({"dashboard": {"uid": "t2", "title": "   "}}),
            ),
            (
                "missing title",
                json!({"dashboard": {"uid": "t3", "panels": []}}),
            ),
            (
                "null title",
                json!({"dashboard": {"uid": "t4", "title": null}}),
            ),
            (
                "title that is a number",
                json!({"dashboard": {"uid": "t5", "title": 5}}),
            ),
            (
                "dashboard is an array",
                json!({"dashboard": [{"title": "x"}]}),
            ),
            (
                "dashboard is a string",
                json!({"dashboard": "{\"title\": \"x\"}"}),
            ),
            ("dashboard is a number", json!({"dashboard": 1})),
            ("dashboard is null", json!({"dashboard": null})),
            ("no dashboard", json!({"title": "x"})),
            ("body is an array", json!([{"dashboard": {"title": "x"}}])),
        ];
        for (what, body) in cases {
            let (status, resp) = admin.post("/api/dashboards/db", body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {resp}");
            assert!(
                !resp["message"].as_str().unwrap_or_default().is_empty(),
                "{what}: no message in {resp}"
            );
        }
        // Malformed and empty bodies.
        for raw in [&b"{\"dashboard\": {\"title\": "[..], b"", b"not json"] {
            let (status, resp) = admin
                .post_raw("/api/dashboards/db", raw.to_vec(), "application/json")
                .await;
            assert_error(status, &resp, StatusCode::BAD_REQUEST);
        }
        // None of them left a dashboard behind.
        let (status, hits) = admin.get("/api/search?type=dash-db").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hits, json!([]));
        let (_, tags) = admin.get("/api/dashboards/tags").await;
        assert_eq!(tags, json!([]));
        for uid in ["t1", "t2", "t3", "t4", "t5"] {
            let (status, _) = admin.get(&format!("/api/dashboards/uid/{uid}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uid}");
        }
    }
);

backend_matrix!(
    get_by_uid_answers_dashboard_and_meta,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        admin
            .post(
                "/api/folders",
                json!({"uid": "meta-f", "title": "Meta Folder"}),
            )
            .await;
        let saved = save_ok(
        &admin,
        json!({"dashboard": {"uid": "meta", "title": "Meta Board", "tags": ["x"]}, "folderUid": "meta-f"}),
    )
    .await;
        let got = get_dashboard(&admin, "meta").await;
        let meta = &got["meta"];
        assert_eq!(got["dashboard"]["title"], "Meta Board");
        assert_eq!(got["dashboard"]["id"], saved["id"]);
        assert_eq!(meta["folderUid"], "meta-f");
        assert_eq!(meta["folderTitle"], "Meta Folder");
        assert_eq!(meta["version"], 1);
        assert_eq!(meta["canSave"], true);
        assert_eq!(meta["canEdit"], true);
        assert_eq!(meta["canStar"], true);
        assert_eq!(meta["isStarred"], false);
        assert_eq!(meta["url"], "/d/meta/meta-board");
        assert_eq!(meta["slug"], "meta-board");
        assert_eq!(meta["type"], "db");
        assert_eq!(meta["createdBy"], "admin");
        assert_eq!(meta["updatedBy"], "admin");
        let created = meta["created"].as_str().unwrap().to_string();
        let updated = meta["updated"].as_str().unwrap().to_string();
        assert!(is_rfc3339(&created), "created {created}");
        assert!(is_rfc3339(&updated), "updated {updated}");

        // Starring shows in isStarred for the user who starred.
        let (status, body) = admin
            .post("/api/user/stars/dashboard/uid/meta", json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let got = get_dashboard(&admin, "meta").await;
        assert_eq!(got["meta"]["isStarred"], true);
        let bob = px.user_with_role("bob", "Editor").await;
        let got_bob = get_dashboard(&bob, "meta").await;
        assert_eq!(got_bob["meta"]["isStarred"], false);
        let (status, _) = admin.delete("/api/user/stars/dashboard/uid/meta").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            get_dashboard(&admin, "meta").await["meta"]["isStarred"],
            false
        );

        // An update moves `updated` (and `updatedBy`) but keeps `created`.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        save_ok(
        &bob,
        json!({"dashboard": {"uid": "meta", "title": "Meta Board", "version": 1}, "folderUid": "meta-f"}),
    )
    .await;
        let got = get_dashboard(&admin, "meta").await;
        assert_eq!(got["meta"]["created"], created.as_str());
        assert_ne!(got["meta"]["updated"], updated.as_str());
        assert!(got["meta"]["updated"].as_str().unwrap() > updated.as_str());
        assert_eq!(got["meta"]["updatedBy"], "bob");
        assert_eq!(got["meta"]["createdBy"], "admin");
        assert_eq!(got["meta"]["version"], 2);

        // Unknown uid: 404 with a JSON message.
        let (status, body) = admin.get("/api/dashboards/uid/nope").await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        assert!(
            body["message"].as_str().unwrap().contains("not found"),
            "{body}"
        );
    }
);

backend_matrix!(delete_then_404, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let saved = create(
        &admin,
        json!({"uid": "gone", "title": "Soon Gone", "tags": ["bye"]}),
    )
    .await;
    create(&admin, json!({"uid": "stays", "title": "Stays"})).await;

    let (status, body) = admin.delete("/api/dashboards/uid/gone").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Soon Gone");
    assert_eq!(body["id"], saved["id"]);
    assert!(
        body["message"].as_str().unwrap().contains("Soon Gone"),
        "{body}"
    );

    let (status, body) = admin.get("/api/dashboards/uid/gone").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = admin.delete("/api/dashboards/uid/gone").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = admin.get("/api/dashboards/uid/gone/versions").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (_, tags) = admin.get("/api/dashboards/tags").await;
    assert_eq!(tags, json!([]));
    let (_, hits) = admin.get("/api/search?type=dash-db").await;
    let uids: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, vec!["stays"]);

    // The uid and title are free again; the new dashboard starts over at version 1.
    let again = create(&admin, json!({"uid": "gone", "title": "Soon Gone"})).await;
    assert_eq!(again["version"], 1);
    let (_, versions) = admin.get("/api/dashboards/uid/gone/versions").await;
    assert_eq!(versions_of(&versions), vec![1]);
});

backend_matrix!(roles_viewer_reads_anonymous_is_401, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    create(&admin, json!({"uid": "guarded", "title": "Guarded"})).await;
    let viewer = px.user_with_role("vera", "Viewer").await;
    let editor = px.user_with_role("eddie", "Editor").await;

    // A viewer reads, but may not save.
    let got = get_dashboard(&viewer, "guarded").await;
    assert_eq!(got["dashboard"]["title"], "Guarded");
    assert_eq!(got["meta"]["canSave"], false);
    assert_eq!(got["meta"]["canEdit"], false);
    let (status, _) = viewer.get("/api/dashboards/uid/guarded/versions").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = viewer.get("/api/dashboards/tags").await;
    assert_eq!(status, StatusCode::OK);

    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "POST",
            "/api/dashboards/db",
            json!({"dashboard": {"title": "By viewer"}}),
        ),
        (
            "POST",
            "/api/dashboards/db",
            json!({"dashboard": {"uid": "guarded", "title": "Guarded", "version": 1}}),
        ),
        (
            "POST",
            "/api/dashboards/uid/guarded/restore",
            json!({"version": 1}),
        ),
        (
            "POST",
            "/api/dashboards/import",
            json!({"dashboard": {"title": "Imported by viewer"}}),
        ),
        ("DELETE", "/api/dashboards/uid/guarded", Value::Null),
    ];
    for (method, path, body) in &writes {
        let (status, resp) = match *method {
            "POST" => viewer.post(path, body.clone()).await,
            _ => viewer.delete(path).await,
        };
        assert_error(status, &resp, StatusCode::FORBIDDEN);
    }
    let got = get_dashboard(&admin, "guarded").await;
    assert_eq!(got["dashboard"]["version"], 1);

    // No credentials: 401 on reads and writes.
    let anon = px.anonymous();
    for path in [
        "/api/dashboards/uid/guarded",
        "/api/dashboards/uid/guarded/versions",
        "/api/dashboards/uid/guarded/versions/1",
        "/api/dashboards/tags",
        "/api/dashboards/home",
    ] {
        let (status, body) = anon.get(path).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
    }
    for (method, path, body) in &writes {
        let (status, resp) = match *method {
            "POST" => anon.post(path, body.clone()).await,
            _ => anon.delete(path).await,
        };
        assert_error(status, &resp, StatusCode::UNAUTHORIZED);
    }
    // Wrong password: 401 too.
    let (status, body) = px
        .basic("admin", "wrong")
        .get("/api/dashboards/uid/guarded")
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    // An editor saves and deletes.
    let resp = create(
        &editor,
        json!({"uid": "guarded", "title": "Guarded", "version": 1}),
    )
    .await;
    assert_eq!(resp["version"], 2);
    assert_eq!(
        get_dashboard(&editor, "guarded").await["meta"]["canSave"],
        true
    );
    let (status, _) = editor.delete("/api/dashboards/uid/guarded").await;
    assert_eq!(status, StatusCode::OK);
});

backend_matrix!(versions_list_single_and_restore, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let saved = save_ok(
        &admin,
        json!({"dashboard": {"uid": "hist", "title": "History", "panels": [{"id": 1, "title": "v1"}]}, "message": "Initial save"}),
    )
    .await;
    let dashboard_id = saved["id"].as_i64().unwrap();
    for v in 1..=3 {
        save_ok(
            &admin,
            json!({
                "dashboard": {"uid": "hist", "title": format!("History {}", v + 1), "version": v,
                              "panels": [{"id": 1, "title": format!("v{}", v + 1)}]},
                "message": format!("change number {v}")
            }),
        )
        .await;
    }

    let (status, list) = admin.get("/api/dashboards/uid/hist/versions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["continueToken"], "");
    assert_eq!(versions_of(&list), vec![4, 3, 2, 1]);
    let items = list["versions"].as_array().unwrap();
    let newest = &items[0];
    assert_eq!(newest["uid"], "hist");
    assert_eq!(newest["dashboardId"], dashboard_id);
    assert_eq!(newest["parentVersion"], 3);
    assert_eq!(newest["restoredFrom"], 0);
    assert_eq!(newest["createdBy"], "admin");
    assert_eq!(newest["message"], "change number 3");
    assert!(is_rfc3339(newest["created"].as_str().unwrap()), "{newest}");
    let oldest = &items[3];
    assert_eq!(oldest["parentVersion"], 0);
    assert_eq!(oldest["message"], "Initial save");
    let messages: Vec<&str> = items
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        vec![
            "change number 3",
            "change number 2",
            "change number 1",
            "Initial save"
        ]
    );
    // Version ids are distinct.
    let mut ids: Vec<i64> = items.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);

    // limit, and start as an offset.
    let (_, two) = admin.get("/api/dashboards/uid/hist/versions?limit=2").await;
    assert_eq!(versions_of(&two), vec![4, 3]);
    let (_, rest) = admin
        .get("/api/dashboards/uid/hist/versions?limit=2&start=2")
        .await;
    assert_eq!(versions_of(&rest), vec![2, 1]);
    let (_, one) = admin.get("/api/dashboards/uid/hist/versions?limit=1").await;
    assert_eq!(versions_of(&one), vec![4]);

    // One version by number, with its data.
    let (status, v2) = admin.get("/api/dashboards/uid/hist/versions/2").await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["parentVersion"], 1);
    assert_eq!(v2["message"], "change number 1");
    assert_eq!(v2["data"]["title"], "History 2");
    assert_eq!(v2["data"]["panels"], json!([{"id": 1, "title": "v2"}]));
    assert_eq!(v2["data"]["version"], 2);
    assert_eq!(v2["data"]["uid"], "hist");
    let (_, v1) = admin.get("/api/dashboards/uid/hist/versions/1").await;
    assert_eq!(v1["data"]["title"], "History");

    // Unknown versions and dashboards.
    for path in [
        "/api/dashboards/uid/hist/versions/99",
        "/api/dashboards/uid/hist/versions/0",
        "/api/dashboards/uid/nope/versions/1",
        "/api/dashboards/uid/nope/versions",
    ] {
        let (status, body) = admin.get(path).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = admin.get("/api/dashboards/uid/hist/versions/abc").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);

    // Restore version 2: a new version 5 whose data is version 2's.
    let (status, restored) = admin
        .post("/api/dashboards/uid/hist/restore", json!({"version": 2}))
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["version"], 5);
    assert_eq!(restored["uid"], "hist");
    assert_eq!(restored["status"], "success");
    assert_eq!(restored["slug"], "history-2");
    assert_eq!(restored["url"], "/d/hist/history-2");
    let got = get_dashboard(&admin, "hist").await;
    assert_eq!(got["dashboard"]["version"], 5);
    assert_eq!(got["meta"]["version"], 5);
    assert_eq!(
        without_server_fields(&got["dashboard"]),
        without_server_fields(&v2["data"])
    );
    let (_, v5) = admin.get("/api/dashboards/uid/hist/versions/5").await;
    assert_eq!(v5["restoredFrom"], 2);
    assert_eq!(v5["parentVersion"], 4);
    assert!(v5["message"].as_str().unwrap().contains('2'), "{v5}");
    assert_eq!(
        without_server_fields(&v5["data"]),
        without_server_fields(&v2["data"])
    );
    let (_, list) = admin.get("/api/dashboards/uid/hist/versions").await;
    assert_eq!(versions_of(&list), vec![5, 4, 3, 2, 1]);
    assert_eq!(list["versions"][0]["restoredFrom"], 2);

    // Restoring an unknown version: 404, nothing written.
    let (status, body) = admin
        .post("/api/dashboards/uid/hist/restore", json!({"version": 42}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = admin
        .post("/api/dashboards/uid/nope/restore", json!({"version": 1}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (_, list) = admin.get("/api/dashboards/uid/hist/versions").await;
    assert_eq!(versions_of(&list), vec![5, 4, 3, 2, 1]);
});

backend_matrix!(
    restore_keeps_the_folder_and_the_title_rule,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        admin
            .post(
                "/api/folders",
                json!({"uid": "rf", "title": "Restore Folder"}),
            )
            .await;
        save_ok(
            &admin,
            json!({"dashboard": {"uid": "r1", "title": "Alpha"}, "folderUid": "rf"}),
        )
        .await;
        save_ok(
            &admin,
            json!({"dashboard": {"uid": "r1", "title": "Beta", "version": 1}, "folderUid": "rf"}),
        )
        .await;
        // Another dashboard takes the old title: restoring version 1 would clash.
        save_ok(
            &admin,
            json!({"dashboard": {"uid": "r2", "title": "Alpha"}, "folderUid": "rf"}),
        )
        .await;
        let (status, body) = admin
            .post("/api/dashboards/uid/r1/restore", json!({"version": 1}))
            .await;
        assert_error(status, &body, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["status"], "name-exists");
        // Once the clash is gone the restore lands in the dashboard's folder.
        admin.delete("/api/dashboards/uid/r2").await;
        let (status, body) = admin
            .post("/api/dashboards/uid/r1/restore", json!({"version": 1}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["version"], 3);
        let got = get_dashboard(&admin, "r1").await;
        assert_eq!(got["dashboard"]["title"], "Alpha");
        assert_eq!(got["meta"]["folderUid"], "rf");
    }
);

backend_matrix!(tags_are_counted, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (status, tags) = admin.get("/api/dashboards/tags").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tags, json!([]));

    create(
        &admin,
        json!({"uid": "t-a", "title": "A", "tags": ["prod", "db"]}),
    )
    .await;
    create(
        &admin,
        json!({"uid": "t-b", "title": "B", "tags": ["prod"]}),
    )
    .await;
    create(
        &admin,
        json!({"uid": "t-c", "title": "C", "tags": ["prod", "web", "web"]}),
    )
    .await;
    create(&admin, json!({"uid": "t-d", "title": "D"})).await;
    let (_, tags) = admin.get("/api/dashboards/tags").await;
    assert_eq!(
        tags,
        json!([
            {"term": "db", "count": 1},
            {"term": "prod", "count": 3},
            {"term": "web", "count": 1}
        ])
    );

    // An update replaces a dashboard's tags; a delete drops them.
    create(
        &admin,
        json!({"uid": "t-a", "title": "A", "version": 1, "tags": ["web"]}),
    )
    .await;
    admin.delete("/api/dashboards/uid/t-b").await;
    let (_, tags) = admin.get("/api/dashboards/tags").await;
    assert_eq!(
        tags,
        json!([
            {"term": "prod", "count": 1},
            {"term": "web", "count": 2}
        ])
    );
    // The stored dashboard keeps its tags exactly as sent (duplicates included).
    let got = get_dashboard(&admin, "t-c").await;
    assert_eq!(got["dashboard"]["tags"], json!(["prod", "web", "web"]));
});

backend_matrix!(home_dashboard, |backend| async move {
    let px = Pharos::start(backend).await;
    let viewer = px.user_with_role("vic", "Viewer").await;
    for client in [px.admin(), viewer] {
        let (status, body) = client.get("/api/dashboards/home").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["meta"]["isHome"], true);
        assert!(body["dashboard"].is_object(), "{body}");
        assert!(body["dashboard"]["title"].is_string(), "{body}");
        assert!(body["dashboard"]["panels"].is_array(), "{body}");
    }
});

fn dashboard_with_inputs() -> Value {
    json!({
        "__inputs": [
            {"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"},
            {"name": "VAR_ENV", "type": "constant", "label": "env", "value": "prod"}
        ],
        "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
        "id": 17,
        "uid": "imported",
        "title": "Imported Board",
        "tags": ["imported"],
        "panels": [
            {"id": 1, "type": "timeseries", "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
             "targets": [{"refId": "A", "datasource": {"uid": "${DS_PROMETHEUS}"}, "expr": "up{env=\"${VAR_ENV}\", job=\"$job\"}"}]},
            {"id": 2, "type": "stat", "datasource": "${DS_PROMETHEUS}", "title": "from ${DS_PROMETHEUS} in ${instance}"}
        ],
        "templating": {"list": [
            {"name": "job", "type": "query", "datasource": {"uid": "${DS_PROMETHEUS}"}, "query": "label_values(up, job)"},
            {"name": "env", "type": "constant", "query": "${VAR_ENV}"}
        ]},
        "schemaVersion": 39,
        "version": 12
    })
}

backend_matrix!(import_fills_inputs, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let inputs = json!([
        {"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus", "value": "prom-uid-1"},
        {"name": "VAR_ENV", "type": "constant", "value": "staging"}
    ]);

    // A missing input: 400, nothing imported.
    let (status, body) = admin
        .post(
            "/api/dashboards/import",
            json!({"dashboard": dashboard_with_inputs(), "overwrite": true,
                   "inputs": [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus", "value": "prom-uid-1"}]}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("VAR_ENV"),
        "{body}"
    );
    let (status, body) = admin
        .post(
            "/api/dashboards/import",
            json!({"dashboard": dashboard_with_inputs(), "inputs": []}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, _) = admin.get("/api/dashboards/uid/imported").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    admin
        .post("/api/folders", json!({"uid": "imp", "title": "Imports"}))
        .await;
    let (status, body) = admin
        .post(
            "/api/dashboards/import",
            json!({"dashboard": dashboard_with_inputs(), "overwrite": true, "inputs": inputs, "folderUid": "imp"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], true);
    assert_eq!(body["uid"], "imported");
    assert_eq!(body["title"], "Imported Board");
    assert_eq!(body["slug"], "imported-board");
    assert_eq!(body["folderUid"], "imp");
    assert_eq!(body["importedUrl"], "/d/imported/imported-board");
    let dashboard_id = body["dashboardId"].as_i64().unwrap();

    let got = get_dashboard(&admin, "imported").await;
    let d = &got["dashboard"];
    assert_eq!(got["meta"]["folderUid"], "imp");
    assert_eq!(d["id"], dashboard_id);
    assert_eq!(d["version"], 1);
    assert!(d.get("__inputs").is_none(), "__inputs kept: {d}");
    let text = d.to_string();
    assert!(
        !text.contains("${DS_PROMETHEUS}"),
        "unfilled input in {text}"
    );
    assert!(!text.contains("${VAR_ENV}"), "unfilled input in {text}");
    assert_eq!(
        d["panels"][0]["datasource"],
        json!({"type": "prometheus", "uid": "prom-uid-1"})
    );
    assert_eq!(
        d["panels"][0]["targets"][0]["datasource"]["uid"],
        "prom-uid-1"
    );
    assert_eq!(
        d["panels"][0]["targets"][0]["expr"],
        "up{env=\"staging\", job=\"$job\"}"
    );
    assert_eq!(d["panels"][1]["datasource"], "prom-uid-1");
    // Template variables that are not inputs stay as they are.
    assert_eq!(d["panels"][1]["title"], "from prom-uid-1 in ${instance}");
    assert_eq!(
        d["templating"]["list"][0]["datasource"]["uid"],
        "prom-uid-1"
    );
    assert_eq!(d["templating"]["list"][1]["query"], "staging");
    // Everything else is as exported, in the exported order.
    let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "__requires",
            "id",
            "uid",
            "title",
            "tags",
            "panels",
            "templating",
            "schemaVersion",
            "version"
        ]
    );
    assert_eq!(d["__requires"], dashboard_with_inputs()["__requires"]);
    assert_eq!(d["tags"], json!(["imported"]));
    assert_eq!(d["schemaVersion"], 39);

    // Importing again with overwrite replaces it as a new version.
    let (status, body) = admin
        .post(
            "/api/dashboards/import",
            json!({"dashboard": dashboard_with_inputs(), "overwrite": true, "folderUid": "imp",
                   "inputs": [{"name": "DS_PROMETHEUS", "value": "prom-uid-2"}, {"name": "VAR_ENV", "value": "dev"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dashboardId"], dashboard_id);
    let got = get_dashboard(&admin, "imported").await;
    assert_eq!(got["dashboard"]["version"], 2);
    assert_eq!(got["dashboard"]["panels"][1]["datasource"], "prom-uid-2");

    // A dashboard without __inputs imports as it is.
    let (status, body) = admin
        .post(
            "/api/dashboards/import",
            json!({"dashboard": {"title": "Plain", "panels": [{"datasource": "${ds}"}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = get_dashboard(&admin, body["uid"].as_str().unwrap()).await;
    assert_eq!(got["dashboard"]["panels"], json!([{"datasource": "${ds}"}]));
    assert_eq!(got["meta"]["folderUid"], "");
});

backend_matrix!(dashboard_json_is_kept_as_sent, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let mut deep = json!({"leaf": [1, 2, 3]});
    for i in 0..40 {
        deep = json!({ format!("level{i}"): deep, "n": i });
    }
    // Built from text so that the key order is exactly this one (not alphabetical).
    let text = r#"{
        "zeta": 1,
        "title": "Kept As Sent",
        "alpha": {"z": 1, "a": 2, "m": {"y": null, "b": [true, false, null]}},
        "uid": "kept",
        "unknownTopLevel": {"x-custom": "yes", "nested": [{"k": "v", "arr": [[], {}, [[1]]]}]},
        "panels": [
            {"type": "timeseries", "id": 7, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
             "fieldConfig": {"defaults": {"custom": {"lineWidth": 1, "fillOpacity": 0.1}, "thresholds": {"mode": "absolute",
               "steps": [{"color": "green", "value": null}, {"color": "red", "value": 80.5}]}}, "overrides": []},
             "options": {"legend": {"showLegend": true, "calcs": ["mean", "max"]}, "myPluginOption": {"deep": {"deeper": 1}}},
             "targets": [{"refId": "A", "expr": "rate(http_requests_total{code=~\"5..\"}[5m])"}]}
        ],
        "numbers": {
            "tenth": 0.1, "small": 1e-7, "huge": 1.5e300, "negative": -273.15, "third": 0.3333333333333333,
            "maxSafe": 9007199254740991, "beyondSafe": 9007199254740993, "i64max": 9223372036854775807,
            "i64min": -9223372036854775808, "u64max": 18446744073709551615, "zero": 0, "negZero": -0.0,
            "float": 2.5, "intLike": 3
        },
        "strings": {
            "unicode": "Grüße, 日本語, Ελληνικά, עברית, emoji 🚀🔥👩‍💻",
            "escapes": "quote \" backslash \\ slash / newline \n tab \t bell \u0007 unit separator \u001f",
            "html": "</script><b>&amp;</b>",
            "empty": "",
            "template": "${DS_PROMETHEUS} $__interval [[var]]"
        },
        "ключ": "значение",
        "🔑": "🗝",
        "emptyObject": {},
        "emptyArray": [],
        "aNull": null,
        "aTrue": true,
        "schemaVersion": 39,
        "version": 0,
        "id": null
    }"#;
    let mut sent: Value = serde_json::from_str(text).unwrap();
    sent.as_object_mut().unwrap().insert("deep".into(), deep);

    let saved = create(&admin, sent.clone()).await;
    assert_eq!(saved["uid"], "kept");
    let got = get_dashboard(&admin, "kept").await;
    let stored = &got["dashboard"];
    if let Some(diff) = first_difference(
        &without_server_fields(&sent),
        &without_server_fields(stored),
        "$",
    ) {
        panic!("dashboard JSON changed: {diff}");
    }
    // Only id, uid and version were set by the server; the keys it had keep their places.
    assert_eq!(stored["id"], saved["id"]);
    assert_eq!(stored["uid"], "kept");
    assert_eq!(stored["version"], 1);
    let sent_keys: Vec<&String> = sent.as_object().unwrap().keys().collect();
    let stored_keys: Vec<&String> = stored.as_object().unwrap().keys().collect();
    assert_eq!(sent_keys, stored_keys);
    // Exact integers survive (not squeezed through a double).
    assert_eq!(
        stored["numbers"]["beyondSafe"].as_u64(),
        Some(9_007_199_254_740_993)
    );
    assert_eq!(stored["numbers"]["i64max"].as_i64(), Some(i64::MAX));
    assert_eq!(stored["numbers"]["i64min"].as_i64(), Some(i64::MIN));
    assert_eq!(stored["numbers"]["u64max"].as_u64(), Some(u64::MAX));
    assert_eq!(stored["numbers"]["tenth"].as_f64(), Some(0.1));
    assert_eq!(stored["numbers"]["intLike"].as_i64(), Some(3));

    // The raw response body spells the numbers the way they were sent.
    let raw = admin
        .request(reqwest::Method::GET, "/api/dashboards/uid/kept")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for literal in [
        "\"tenth\":0.1,",
        "\"beyondSafe\":9007199254740993,",
        "\"u64max\":18446744073709551615,",
        "\"i64min\":-9223372036854775808,",
        "\"float\":2.5,",
        "\"intLike\":3",
    ] {
        assert!(raw.contains(literal), "{literal} not in the raw body");
    }

    // The same holds after an update, and in the version history.
    let mut update = stored.clone();
    update["strings"]["unicode"] = json!("changed ✓");
    let resp = create(&admin, update.clone()).await;
    assert_eq!(resp["version"], 2);
    let got = get_dashboard(&admin, "kept").await;
    if let Some(diff) = first_difference(
        &without_server_fields(&update),
        &without_server_fields(&got["dashboard"]),
        "$",
    ) {
        panic!("updated JSON changed: {diff}");
    }
    let (_, v1) = admin.get("/api/dashboards/uid/kept/versions/1").await;
    if let Some(diff) = first_difference(
        &without_server_fields(&sent),
        &without_server_fields(&v1["data"]),
        "$",
    ) {
        panic!("version 1 JSON changed: {diff}");
    }
});

/// Two clients race to save the same version of one dashboard: one wins, the other gets 412.
async fn race_round(a: &Client, b: &Client, uid: &str, version: i64, round: usize) -> i64 {
    let body = |who: &str| {
        json!({"dashboard": {"uid": uid, "title": "Raced", "version": version,
                             "panels": [{"id": 1, "title": format!("{who} round {round}")}]},
               "message": format!("{who} {round}")})
    };
    let (ra, rb) = tokio::join!(
        a.post("/api/dashboards/db", body("a")),
        b.post("/api/dashboards/db", body("b"))
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "round {round}: {} {} / {} {}",
        ra.0,
        ra.1,
        rb.0,
        rb.1
    );
    let (winner, loser) = if ra.0 == StatusCode::OK {
        (ra, rb)
    } else {
        (rb, ra)
    };
    assert_eq!(loser.1["status"], "version-mismatch", "{}", loser.1);
    assert_eq!(winner.1["version"], version + 1);
    version + 1
}

backend_matrix!(concurrent_saves_of_one_version, |backend| async move {
    let px = Pharos::start(backend).await;
    let a = px.admin();
    let b = px.user_with_role("racer", "Editor").await;
    create(&a, json!({"uid": "raced", "title": "Raced"})).await;
    let mut version = 1;
    let rounds = 12;
    for round in 0..rounds {
        version = race_round(&a, &b, "raced", version, round).await;
    }
    assert_eq!(version, 1 + rounds as i64);

    // Four at once: still exactly one winner.
    for round in 0..4 {
        let body = json!({"dashboard": {"uid": "raced", "title": "Raced", "version": version}});
        let clients = [a.clone(), b.clone(), a.clone(), b.clone()];
        let results = futures_join_all(&clients, &body).await;
        let ok = results.iter().filter(|r| r.0 == StatusCode::OK).count();
        let conflicts = results
            .iter()
            .filter(|r| {
                r.0 == StatusCode::PRECONDITION_FAILED && r.1["status"] == "version-mismatch"
            })
            .count();
        assert_eq!((ok, conflicts), (1, 3), "round {round}: {results:?}");
        version += 1;
    }

    // The history has every version once, without gaps, each child of the one before.
    let (_, list) = a.get("/api/dashboards/uid/raced/versions").await;
    let expected: Vec<i64> = (1..=version).rev().collect();
    assert_eq!(versions_of(&list), expected);
    for v in list["versions"].as_array().unwrap() {
        assert_eq!(
            v["parentVersion"].as_i64().unwrap(),
            v["version"].as_i64().unwrap() - 1,
            "{v}"
        );
    }
    let got = get_dashboard(&a, "raced").await;
    assert_eq!(got["dashboard"]["version"], version);
    assert_eq!(got["meta"]["version"], version);
    // The stored dashboard is the winner of the last round.
    let (_, newest) = a
        .get(&format!("/api/dashboards/uid/raced/versions/{version}"))
        .await;
    assert_eq!(
        without_server_fields(&newest["data"]),
        without_server_fields(&got["dashboard"])
    );
});

/// Sends `body` from every client at once.
async fn futures_join_all(clients: &[Client], body: &Value) -> Vec<(StatusCode, Value)> {
    let handles: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = c.clone();
            let body = body.clone();
            tokio::spawn(async move { c.post("/api/dashboards/db", body).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

backend_matrix!(
    concurrent_creates_of_one_uid_or_title,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let a = px.admin();
        let b = px.user_with_role("racer", "Editor").await;
        for round in 0..6 {
            // The same new uid: one creates it, the other is told the dashboard changed under it.
            let uid = format!("new-{round}");
            let body = json!({"dashboard": {"uid": uid, "title": format!("New {round}")}});
            let results = futures_join_all(&[a.clone(), b.clone()], &body).await;
            let mut statuses: Vec<StatusCode> = results.iter().map(|r| r.0).collect();
            statuses.sort();
            assert_eq!(
                statuses,
                vec![StatusCode::OK, StatusCode::PRECONDITION_FAILED],
                "round {round}: {results:?}"
            );
            // The same new title without uids: one dashboard, one name-exists.
            let body = json!({"dashboard": {"title": format!("Same Title {round}")}});
            let results = futures_join_all(&[a.clone(), b.clone()], &body).await;
            let mut statuses: Vec<StatusCode> = results.iter().map(|r| r.0).collect();
            statuses.sort();
            assert_eq!(
                statuses,
                vec![StatusCode::OK, StatusCode::PRECONDITION_FAILED],
                "round {round}: {results:?}"
            );
            let loser = results.iter().find(|r| r.0 != StatusCode::OK).unwrap();
            assert_eq!(loser.1["status"], "name-exists", "{}", loser.1);
        }
        let (_, hits) = a.get("/api/search?type=dash-db").await;
        assert_eq!(hits.as_array().unwrap().len(), 12, "{hits}");
    }
);

backend_matrix!(concurrent_overwrites_all_land, |backend| async move {
    let px = Pharos::start(backend).await;
    let a = px.admin();
    let b = px.user_with_role("racer", "Editor").await;
    create(&a, json!({"uid": "ow", "title": "Overwritten"})).await;
    let mut version = 1;
    for round in 0..5 {
        // `overwrite` asks to win whatever the version: every save lands, one after the other.
        let body = json!({"dashboard": {"uid": "ow", "title": "Overwritten", "version": 0}, "overwrite": true});
        let clients = [a.clone(), b.clone(), a.clone()];
        let results = futures_join_all(&clients, &body).await;
        assert!(
            results.iter().all(|r| r.0 == StatusCode::OK),
            "round {round}: {results:?}"
        );
        let mut got: Vec<i64> = results
            .iter()
            .map(|r| r.1["version"].as_i64().unwrap())
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![version + 1, version + 2, version + 3],
            "round {round}"
        );
        version += 3;
    }
    let (_, list) = a.get("/api/dashboards/uid/ow/versions").await;
    assert_eq!(versions_of(&list), (1..=version).rev().collect::<Vec<_>>());
});

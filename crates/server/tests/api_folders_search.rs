//! Grafana's folder API (`/api/folders`) and search (`/api/search`), on SQLite and PostgreSQL.

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn folder(client: &Client, uid: Option<&str>, title: &str) -> Value {
    let body = match uid {
        Some(uid) => json!({"uid": uid, "title": title}),
        None => json!({"title": title}),
    };
    let (status, resp) = client.post("/api/folders", body).await;
    assert_eq!(status, StatusCode::OK, "creating folder {title}: {resp}");
    resp
}

async fn dashboard(
    client: &Client,
    uid: &str,
    title: &str,
    folder_uid: &str,
    tags: &[&str],
) -> Value {
    save_ok(
        client,
        json!({"dashboard": {"uid": uid, "title": title, "tags": tags}, "folderUid": folder_uid}),
    )
    .await
}

async fn search(client: &Client, query: &str) -> Vec<Value> {
    let (status, body) = client.get(&format!("/api/search{query}")).await;
    assert_eq!(status, StatusCode::OK, "search {query}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("search {query} is not an array: {body}"))
        .clone()
}

/// The uids of a search's hits, in order.
async fn uids(client: &Client, query: &str) -> Vec<String> {
    search(client, query)
        .await
        .iter()
        .map(|h| h["uid"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- folders

backend_matrix!(folder_create_with_and_without_uid, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();

    let f = folder(&admin, Some("nErXDvCkzz"), "Department ABC").await;
    assert_eq!(f["uid"], "nErXDvCkzz");
    assert_eq!(f["title"], "Department ABC");
    assert_eq!(f["url"], "/dashboards/f/nErXDvCkzz/department-abc");
    assert_eq!(f["version"], 1);
    assert_eq!(f["canSave"], true);
    assert_eq!(f["canEdit"], true);
    assert_eq!(f["canAdmin"], true);
    assert_eq!(f["hasAcl"], false);
    assert_eq!(f["createdBy"], "admin");
    assert_eq!(f["updatedBy"], "admin");
    assert!(f["id"].as_i64().unwrap() > 0);
    assert!(f["created"].as_str().unwrap().contains('T'), "{f}");

    let g = folder(&admin, None, "Generated Uid").await;
    let uid = g["uid"].as_str().unwrap();
    assert!(is_valid_uid(uid), "generated uid {uid:?}");
    assert_ne!(uid, "nErXDvCkzz");
    assert_ne!(g["id"], f["id"]);
    assert_eq!(g["url"], format!("/dashboards/f/{uid}/generated-uid"));
    // An empty uid is "no uid".
    let h = folder(&admin, Some(""), "Empty Uid").await;
    assert!(is_valid_uid(h["uid"].as_str().unwrap()), "{h}");

    // Bad input: 400 and nothing created.
    let cases = [
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({}),
        json!({"uid": "a".repeat(41), "title": "Long uid"}),
        json!({"uid": "bad uid", "title": "Bad uid"}),
        json!({"uid": "bad/uid", "title": "Bad uid 2"}),
        json!({"title": 7}),
    ];
    for body in cases {
        let (status, resp) = admin.post("/api/folders", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
        assert!(resp["message"].is_string(), "{resp}");
    }
    let (status, resp) = admin
        .post_raw("/api/folders", b"{\"title\":".to_vec(), "application/json")
        .await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST);
    let (_, list) = admin.get("/api/folders").await;
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
});

backend_matrix!(folder_list_and_get, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (status, list) = admin.get("/api/folders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]));

    let b = folder(&admin, Some("fb"), "beta").await;
    let a = folder(&admin, Some("fa"), "Alpha").await;
    folder(&admin, Some("fc"), "Gamma").await;

    let (_, list) = admin.get("/api/folders").await;
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Alpha", "beta", "Gamma"]);
    assert_eq!(list[0]["uid"], "fa");
    assert_eq!(list[0]["id"], a["id"]);

    let (_, page) = admin.get("/api/folders?limit=2").await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (_, page2) = admin.get("/api/folders?limit=2&page=2").await;
    let uids: Vec<&str> = page2
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, vec!["fc"]);

    let (status, got) = admin.get("/api/folders/fb").await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["title"], "beta");
    assert_eq!(got["id"], b["id"]);
    assert_eq!(got["version"], 1);
    assert_eq!(got["url"], "/dashboards/f/fb/beta");
    let (status, by_id) = admin.get(&format!("/api/folders/id/{}", b["id"])).await;
    assert_eq!(status, StatusCode::OK, "{by_id}");
    assert_eq!(by_id["uid"], "fb");

    let (status, body) = admin.get("/api/folders/missing").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = admin.get("/api/folders/id/999999").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
});

backend_matrix!(folder_duplicates_are_409, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    folder(&admin, Some("dup"), "Original").await;

    let (status, body) = admin
        .post("/api/folders", json!({"title": "Original"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = admin
        .post("/api/folders", json!({"uid": "other", "title": "Original"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = admin
        .post("/api/folders", json!({"uid": "dup", "title": "Different"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("uid"), "{body}");

    let (_, list) = admin.get("/api/folders").await;
    assert_eq!(
        list,
        json!([{"id": list[0]["id"], "uid": "dup", "title": "Original"}])
    );
    let (status, _) = admin.get("/api/folders/other").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

backend_matrix!(folder_update_with_version, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let f = folder(&admin, Some("upd"), "Before").await;
    folder(&admin, Some("taken"), "Taken").await;
    dashboard(&admin, "inside", "Inside", "upd", &[]).await;

    let (status, body) = admin
        .put("/api/folders/upd", json!({"title": "After", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "After");
    assert_eq!(body["version"], 2);
    assert_eq!(body["uid"], "upd");
    assert_eq!(body["id"], f["id"]);
    assert_eq!(body["url"], "/dashboards/f/upd/after");
    let (_, got) = admin.get("/api/folders/upd").await;
    assert_eq!(got["title"], "After");
    assert_eq!(got["version"], 2);

    // Dashboards inside see the new title.
    let (_, d) = admin.get("/api/dashboards/uid/inside").await;
    assert_eq!(d["meta"]["folderTitle"], "After");
    let hits = search(&admin, "?dashboardUIDs=inside").await;
    assert_eq!(hits[0]["folderTitle"], "After");

    // Stale, future and missing versions: 412 version-mismatch; nothing changes.
    for body in [
        json!({"title": "Stale", "version": 1}),
        json!({"title": "Stale", "version": 3}),
        json!({"title": "Stale"}),
    ] {
        let (status, resp) = admin.put("/api/folders/upd", body).await;
        assert_error(status, &resp, StatusCode::PRECONDITION_FAILED);
        assert_eq!(resp["status"], "version-mismatch", "{resp}");
    }
    let (_, got) = admin.get("/api/folders/upd").await;
    assert_eq!(got["title"], "After");
    assert_eq!(got["version"], 2);

    // overwrite wins.
    let (status, body) = admin
        .put(
            "/api/folders/upd",
            json!({"title": "Forced", "version": 1, "overwrite": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Forced");
    assert_eq!(body["version"], 3);

    // Another folder's title: 409.
    let (status, body) = admin
        .put("/api/folders/upd", json!({"title": "Taken", "version": 3}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (_, got) = admin.get("/api/folders/upd").await;
    assert_eq!(got["title"], "Forced");

    // Bad title, unknown folder.
    let (status, body) = admin
        .put("/api/folders/upd", json!({"title": "", "version": 3}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = admin
        .put("/api/folders/missing", json!({"title": "X", "version": 1}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
});

backend_matrix!(folder_delete_removes_its_dashboards, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let doomed = folder(&admin, Some("doomed"), "Doomed").await;
    folder(&admin, Some("safe"), "Safe").await;
    dashboard(&admin, "d1", "One", "doomed", &["gone"]).await;
    dashboard(&admin, "d2", "Two", "doomed", &["gone", "kept"]).await;
    dashboard(&admin, "s1", "Three", "safe", &["kept"]).await;
    dashboard(&admin, "g1", "Four", "", &[]).await;
    admin
        .post("/api/user/stars/dashboard/uid/d1", json!({}))
        .await;

    let (status, body) = admin.delete("/api/folders/doomed").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Doomed");
    assert_eq!(body["id"], doomed["id"]);
    assert!(body["message"].is_string(), "{body}");

    let (status, body) = admin.get("/api/folders/doomed").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    for uid in ["d1", "d2"] {
        let (status, _) = admin.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uid} survived its folder");
        let (status, _) = admin
            .get(&format!("/api/dashboards/uid/{uid}/versions"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    for uid in ["s1", "g1"] {
        let (status, _) = admin.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(status, StatusCode::OK, "{uid}");
    }
    assert_eq!(uids(&admin, "").await, vec!["safe", "g1", "s1"]);
    let (_, tags) = admin.get("/api/dashboards/tags").await;
    assert_eq!(tags, json!([{"term": "kept", "count": 1}]));
    let (_, stars) = admin.get("/api/user/stars").await;
    assert_eq!(stars, json!([]));

    let (status, body) = admin.delete("/api/folders/doomed").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    // The title and uid are free again.
    let again = folder(&admin, Some("doomed"), "Doomed").await;
    assert_eq!(again["version"], 1);
});

backend_matrix!(folder_roles, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    folder(&admin, Some("roles"), "Roles").await;
    let viewer = px.user_with_role("vera", "Viewer").await;
    let editor = px.user_with_role("eddie", "Editor").await;

    let (status, list) = viewer.get("/api/folders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, got) = viewer.get("/api/folders/roles").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["canSave"], false);
    assert_eq!(got["canEdit"], false);

    let (status, body) = viewer
        .post("/api/folders", json!({"title": "By viewer"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = viewer
        .put(
            "/api/folders/roles",
            json!({"title": "Renamed", "version": 1}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = viewer.delete("/api/folders/roles").await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = viewer
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "x"}, "folderUid": "roles"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);

    let anon = px.anonymous();
    for (status, body) in [
        anon.get("/api/folders").await,
        anon.get("/api/folders/roles").await,
        anon.post("/api/folders", json!({"title": "Anon"})).await,
        anon.put("/api/folders/roles", json!({"title": "Anon", "version": 1}))
            .await,
        anon.delete("/api/folders/roles").await,
    ] {
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
    }
    let (_, got) = admin.get("/api/folders/roles").await;
    assert_eq!(got["title"], "Roles");
    assert_eq!(got["version"], 1);

    // An editor manages folders.
    let f = folder(&editor, None, "Editor's").await;
    assert_eq!(f["createdBy"], "eddie");
    let (status, _) = editor
        .put(
            &format!("/api/folders/{}", f["uid"].as_str().unwrap()),
            json!({"title": "Editor's 2", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = editor
        .delete(&format!("/api/folders/{}", f["uid"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);
});

// ---------------------------------------------------------------- search

/// Two folders and seven dashboards with tags, for the search cases.
async fn seed(admin: &Client) {
    folder(admin, Some("f-cpu"), "CPU Folder").await;
    folder(admin, Some("f-web"), "web folder").await;
    dashboard(admin, "cpu-usage", "CPU Usage", "f-cpu", &["prod", "hw"]).await;
    dashboard(admin, "cpu-temp", "cpu temperature", "", &["hw"]).await;
    dashboard(admin, "mem", "Memory", "f-cpu", &["prod", "hw", "mem"]).await;
    dashboard(admin, "web-req", "Web Requests", "f-web", &["prod", "web"]).await;
    dashboard(admin, "web-err", "Web Errors 50%_off", "f-web", &["web"]).await;
    dashboard(admin, "disk", "Disk", "", &[]).await;
    dashboard(admin, "alpha", "alpha overview", "", &["prod"]).await;
}

backend_matrix!(
    search_query_is_a_case_insensitive_substring,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        seed(&admin).await;

        // Folders first, then dashboards, each by title without regard to case.
        assert_eq!(
            uids(&admin, "").await,
            vec![
                "f-cpu",
                "f-web",
                "alpha",
                "cpu-temp",
                "cpu-usage",
                "disk",
                "mem",
                "web-err",
                "web-req"
            ]
        );
        assert_eq!(
            uids(&admin, "?query=cpu").await,
            vec!["f-cpu", "cpu-temp", "cpu-usage"]
        );
        assert_eq!(
            uids(&admin, "?query=CPU").await,
            vec!["f-cpu", "cpu-temp", "cpu-usage"]
        );
        assert_eq!(
            uids(&admin, "?query=pU%20").await,
            vec!["f-cpu", "cpu-temp", "cpu-usage"]
        );
        assert_eq!(uids(&admin, "?query=emp").await, vec!["cpu-temp"]);
        assert_eq!(
            uids(&admin, "?query=WEB").await,
            vec!["f-web", "web-err", "web-req"]
        );
        assert_eq!(
            uids(&admin, "?query=nothing-like-this").await,
            Vec::<String>::new()
        );
        // LIKE wildcards in the query match literally.
        assert_eq!(uids(&admin, "?query=50%25_").await, vec!["web-err"]);
        assert_eq!(uids(&admin, "?query=%25").await, vec!["web-err"]);
        assert_eq!(uids(&admin, "?query=_").await, vec!["web-err"]);
        // An empty query is no filter.
        assert_eq!(uids(&admin, "?query=").await.len(), 9);
    }
);

backend_matrix!(search_tags_type_and_uids, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    seed(&admin).await;

    // Tags: every one given must be present; folders have none.
    assert_eq!(
        uids(&admin, "?tag=hw").await,
        vec!["cpu-temp", "cpu-usage", "mem"]
    );
    assert_eq!(
        uids(&admin, "?tag=hw&tag=prod").await,
        vec!["cpu-usage", "mem"]
    );
    assert_eq!(uids(&admin, "?tag=hw&tag=prod&tag=mem").await, vec!["mem"]);
    assert_eq!(uids(&admin, "?tag=web&tag=hw").await, Vec::<String>::new());
    assert_eq!(uids(&admin, "?tag=nope").await, Vec::<String>::new());
    assert_eq!(uids(&admin, "?tag=prod&query=web").await, vec!["web-req"]);

    // Type.
    assert_eq!(
        uids(&admin, "?type=dash-folder").await,
        vec!["f-cpu", "f-web"]
    );
    assert_eq!(
        uids(&admin, "?type=dash-folder&query=web").await,
        vec!["f-web"]
    );
    assert_eq!(
        uids(&admin, "?type=dash-db").await,
        vec![
            "alpha",
            "cpu-temp",
            "cpu-usage",
            "disk",
            "mem",
            "web-err",
            "web-req"
        ]
    );
    assert_eq!(
        uids(&admin, "?type=dash-db&query=cpu").await,
        vec!["cpu-temp", "cpu-usage"]
    );
    for hit in search(&admin, "?type=dash-db").await {
        assert_eq!(hit["type"], "dash-db", "{hit}");
    }
    for hit in search(&admin, "?type=dash-folder").await {
        assert_eq!(hit["type"], "dash-folder", "{hit}");
    }

    // dashboardUIDs, as a comma list or repeated.
    assert_eq!(
        uids(&admin, "?dashboardUIDs=mem,disk").await,
        vec!["disk", "mem"]
    );
    assert_eq!(
        uids(&admin, "?dashboardUIDs=mem&dashboardUIDs=disk").await,
        vec!["disk", "mem"]
    );
    assert_eq!(
        uids(&admin, "?dashboardUIDs=mem&tag=web").await,
        Vec::<String>::new()
    );
    assert_eq!(
        uids(&admin, "?dashboardUIDs=unknown").await,
        Vec::<String>::new()
    );
    // The legacy dashboardUID spelling.
    assert_eq!(uids(&admin, "?dashboardUID=mem").await, vec!["mem"]);

    // folderUIDs, `general` being the top level.
    assert_eq!(
        uids(&admin, "?folderUIDs=f-cpu").await,
        vec!["cpu-usage", "mem"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=f-web,f-cpu").await,
        vec!["cpu-usage", "mem", "web-err", "web-req"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=f-web&folderUIDs=f-cpu").await,
        vec!["cpu-usage", "mem", "web-err", "web-req"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=general").await,
        vec!["alpha", "cpu-temp", "disk"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=general,f-web&tag=web").await,
        vec!["web-err", "web-req"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=general&query=cpu").await,
        vec!["cpu-temp"]
    );
    assert_eq!(
        uids(&admin, "?folderUIDs=unknown").await,
        Vec::<String>::new()
    );

    // An unknown type is refused.
    let (status, body) = admin.get("/api/search?type=dash-weird").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
});

backend_matrix!(search_starred, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    seed(&admin).await;
    let bob = px.user_with_role("bob", "Viewer").await;

    assert_eq!(uids(&admin, "?starred=true").await, Vec::<String>::new());
    for uid in ["mem", "disk"] {
        let (status, body) = admin
            .post(&format!("/api/user/stars/dashboard/uid/{uid}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Starring twice is harmless.
    let (status, _) = admin
        .post("/api/user/stars/dashboard/uid/mem", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin
        .post("/api/user/stars/dashboard/uid/nope", json!({}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    assert_eq!(uids(&admin, "?starred=true").await, vec!["disk", "mem"]);
    assert_eq!(uids(&admin, "?starred=true&tag=prod").await, vec!["mem"]);
    assert_eq!(uids(&admin, "?starred=false").await.len(), 9);
    // isStarred in every result, for the caller.
    for hit in search(&admin, "?type=dash-db").await {
        let expected = matches!(hit["uid"].as_str(), Some("mem" | "disk"));
        assert_eq!(hit["isStarred"], expected, "{hit}");
    }
    // Stars are per user.
    assert_eq!(uids(&bob, "?starred=true").await, Vec::<String>::new());
    assert!(search(&bob, "?type=dash-db")
        .await
        .iter()
        .all(|h| h["isStarred"] == false));
    let (status, _) = bob
        .post("/api/user/stars/dashboard/uid/alpha", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(uids(&bob, "?starred=true").await, vec!["alpha"]);
    assert_eq!(uids(&admin, "?starred=true").await, vec!["disk", "mem"]);

    // Unstarring.
    let (status, _) = admin.delete("/api/user/stars/dashboard/uid/disk").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(uids(&admin, "?starred=true").await, vec!["mem"]);
});

backend_matrix!(search_limit_and_page, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    seed(&admin).await;
    let all = uids(&admin, "").await;
    assert_eq!(all.len(), 9);

    let mut paged = Vec::new();
    for page in 1..=4 {
        let got = uids(&admin, &format!("?limit=4&page={page}")).await;
        let expected = match page {
            1 | 2 => 4,
            3 => 1,
            _ => 0,
        };
        assert_eq!(got.len(), expected, "page {page}: {got:?}");
        paged.extend(got);
    }
    assert_eq!(paged, all, "pages do not add up to the whole");
    assert_eq!(uids(&admin, "?limit=2").await, all[..2].to_vec());
    assert_eq!(uids(&admin, "?limit=3&page=1").await, all[..3].to_vec());
    // Paging over dashboards only.
    let dashboards = uids(&admin, "?type=dash-db").await;
    assert_eq!(
        uids(&admin, "?type=dash-db&limit=3&page=2").await,
        dashboards[3..6].to_vec()
    );
    assert_eq!(
        uids(&admin, "?tag=prod&limit=2&page=2").await,
        vec!["mem", "web-req"]
    );
    // Page 0, or one that is not a number, is the first page.
    assert_eq!(uids(&admin, "?limit=2&page=0").await, all[..2].to_vec());
    assert_eq!(uids(&admin, "?limit=2&page=first").await, all[..2].to_vec());
    // Grafana documents that an invalid limit falls back to the default (1000), as does a limit
    // below 1; above the maximum of 5000 it answers 422.
    assert_eq!(uids(&admin, "?limit=abc").await, all);
    assert_eq!(uids(&admin, "?limit=0").await, all);
    assert_eq!(uids(&admin, "?limit=-4").await, all);
    assert_eq!(uids(&admin, "?limit=5000").await, all);
    let (status, body) = admin.get("/api/search?limit=5001").await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
});

backend_matrix!(search_result_fields, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let f = folder(&admin, Some("f-cpu"), "CPU Folder").await;
    let inside = dashboard(&admin, "cpu-usage", "CPU Usage", "f-cpu", &["prod", "hw"]).await;
    let top = dashboard(&admin, "disk", "Disk", "", &[]).await;
    admin
        .post("/api/user/stars/dashboard/uid/cpu-usage", json!({}))
        .await;

    let hits = search(&admin, "").await;
    assert_eq!(hits.len(), 3, "{hits:?}");
    let folder_hit = &hits[0];
    assert_eq!(folder_hit["type"], "dash-folder");
    assert_eq!(folder_hit["uid"], "f-cpu");
    assert_eq!(folder_hit["id"], f["id"]);
    assert_eq!(folder_hit["title"], "CPU Folder");
    assert_eq!(folder_hit["url"], "/dashboards/f/f-cpu/cpu-folder");
    assert_eq!(folder_hit["isStarred"], false);
    assert_eq!(folder_hit["tags"], json!([]));

    let d = &hits[1];
    assert_eq!(d["uid"], "cpu-usage");
    assert_eq!(d["type"], "dash-db");
    assert_eq!(d["id"], inside["id"]);
    assert_eq!(d["title"], "CPU Usage");
    assert_eq!(d["url"], "/d/cpu-usage/cpu-usage");
    assert_eq!(d["uri"], "db/cpu-usage");
    assert_eq!(d["slug"], "cpu-usage");
    assert_eq!(d["tags"], json!(["hw", "prod"]));
    assert_eq!(d["isStarred"], true);
    assert_eq!(d["folderUid"], "f-cpu");
    assert_eq!(d["folderTitle"], "CPU Folder");
    assert_eq!(d["folderId"], f["id"]);
    assert_eq!(d["folderUrl"], "/dashboards/f/f-cpu/cpu-folder");

    let t = &hits[2];
    assert_eq!(t["uid"], "disk");
    assert_eq!(t["id"], top["id"]);
    assert_eq!(t["url"], "/d/disk/disk");
    assert_eq!(t["isStarred"], false);
    assert_eq!(t["tags"], json!([]));
    // A top-level dashboard has no folder (Grafana leaves the folder fields out).
    for key in ["folderUid", "folderTitle", "folderUrl"] {
        assert!(
            t.get(key).is_none() || t[key] == "",
            "{key} on a General dashboard: {t}"
        );
    }

    // A rename shows in search at once.
    let (status, _) = admin
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"uid": "disk", "title": "Disk IO", "version": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let hits = search(&admin, "?query=disk").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["title"], "Disk IO");
    assert_eq!(hits[0]["url"], "/d/disk/disk-io");
});

backend_matrix!(search_roles, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    seed(&admin).await;
    let viewer = px.user_with_role("vera", "Viewer").await;
    assert_eq!(
        uids(&viewer, "?query=cpu").await,
        vec!["f-cpu", "cpu-temp", "cpu-usage"]
    );
    let (status, body) = px.anonymous().get("/api/search").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
});

backend_matrix!(
    folder_concurrent_updates_of_one_version,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let a = px.admin();
        let b = px.user_with_role("racer", "Editor").await;
        folder(&a, Some("raced"), "Raced 0").await;
        let mut version = 1;
        for round in 1..=10 {
            let put = |client: &Client, who: &str| {
                let client = client.clone();
                let body = json!({"title": format!("Raced {round} by {who}"), "version": version});
                tokio::spawn(async move { client.put("/api/folders/raced", body).await })
            };
            let (ha, hb) = (put(&a, "a"), put(&b, "b"));
            let results = [ha.await.unwrap(), hb.await.unwrap()];
            let ok: Vec<&(StatusCode, Value)> =
                results.iter().filter(|r| r.0 == StatusCode::OK).collect();
            let lost: Vec<&(StatusCode, Value)> = results
                .iter()
                .filter(|r| {
                    r.0 == StatusCode::PRECONDITION_FAILED && r.1["status"] == "version-mismatch"
                })
                .collect();
            assert_eq!((ok.len(), lost.len()), (1, 1), "round {round}: {results:?}");
            assert_eq!(ok[0].1["version"], version + 1, "round {round}");
            version += 1;
            // The winner's title is the one stored.
            let (_, got) = a.get("/api/folders/raced").await;
            assert_eq!(got["title"], ok[0].1["title"], "round {round}");
            assert_eq!(got["version"], version);
        }
    }
);

backend_matrix!(
    folder_concurrent_overwrites_all_land,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let a = px.admin();
        let b = px.user_with_role("racer", "Editor").await;
        folder(&a, Some("ow"), "Overwritten 0").await;
        for round in 1..=5 {
            let put = |client: &Client, who: &str| {
                let client = client.clone();
                let body =
                    json!({"title": format!("Overwritten {round} by {who}"), "overwrite": true});
                tokio::spawn(async move { client.put("/api/folders/ow", body).await })
            };
            let (ha, hb) = (put(&a, "a"), put(&b, "b"));
            let results = [ha.await.unwrap(), hb.await.unwrap()];
            assert!(
                results.iter().all(|r| r.0 == StatusCode::OK),
                "round {round}: {results:?}"
            );
            let mut versions: Vec<i64> = results
                .iter()
                .map(|r| r.1["version"].as_i64().unwrap())
                .collect();
            versions.sort();
            assert_eq!(versions, vec![2 * round, 2 * round + 1], "round {round}");
        }
        let (_, got) = a.get("/api/folders/ow").await;
        assert_eq!(got["version"], 11);
    }
);

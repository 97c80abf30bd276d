//! Grafana routes for features Pharos does not have (`crates/server/src/api/compat.rs`): folder
//! permissions as the fixed role ACL, empty snapshot, library element and team listings, and the
//! server admin's org listing, in Grafana's shapes and behind Grafana's roles, on SQLite and
//! PostgreSQL.

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn make_folder(client: &Client, uid: &str, title: &str) {
    let (status, body) = client
        .post("/api/folders", json!({"uid": uid, "title": title}))
        .await;
    assert_eq!(status, StatusCode::OK, "creating folder {uid}: {body}");
}

/// The (role, permission, permissionName) triples of an ACL listing.
fn grants(acl: &Value) -> Vec<(String, i64, String)> {
    acl.as_array()
        .unwrap_or_else(|| panic!("the ACL is not an array: {acl}"))
        .iter()
        .map(|item| {
            (
                item["role"].as_str().unwrap_or("").to_string(),
                item["permission"].as_i64().unwrap_or(-1),
                item["permissionName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

backend_matrix!(folder_permissions_are_the_role_acl, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    make_folder(&admin, "ops", "Ops Team").await;
    let (_, folder) = admin.get("/api/folders/ops").await;

    let (status, acl) = admin.get("/api/folders/ops/permissions").await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(
        grants(&acl),
        vec![
            ("Viewer".to_string(), 1, "View".to_string()),
            ("Editor".to_string(), 2, "Edit".to_string()),
        ]
    );
    for item in acl.as_array().unwrap() {
        assert_eq!(item["uid"], "ops", "{item}");
        assert_eq!(item["folderUid"], "ops", "{item}");
        assert_eq!(item["folderId"], folder["id"], "{item}");
        assert_eq!(item["title"], "Ops Team", "{item}");
        assert_eq!(item["slug"], "ops-team", "{item}");
        assert_eq!(item["url"], "/dashboards/f/ops/ops-team", "{item}");
        assert_eq!(item["isFolder"], true, "{item}");
        assert_eq!(item["userId"], 0, "{item}");
        assert_eq!(item["teamId"], 0, "{item}");
        assert_eq!(item["inherited"], false, "{item}");
        assert!(item["created"].as_str().unwrap().contains('T'), "{item}");
    }

    // The listing sent back as it is (what a backup tool's restore does) is accepted, in any order
    // and with the bare fields Grafana's own UI sends.
    let (status, body) = admin
        .post("/api/folders/ops/permissions", json!({"items": acl}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Folder permissions updated");
    let (status, body) = admin
        .post(
            "/api/folders/ops/permissions",
            json!({"items": [{"role": "Editor", "permission": 2}, {"role": "Viewer", "permission": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Any other ACL would be a lie about who can do what: refused, with the reason.
    let refused = [
        json!({"items": []}),
        json!({"items": [{"role": "Viewer", "permission": 1}]}),
        json!({"items": [{"role": "Viewer", "permission": 2}, {"role": "Editor", "permission": 2}]}),
        json!({"items": [{"role": "Viewer", "permission": 1}, {"role": "Editor", "permission": 2}, {"userId": 1, "permission": 4}]}),
        json!({"items": [{"teamId": 3, "permission": 1}]}),
    ];
    for body in refused {
        let (status, resp) = admin
            .post("/api/folders/ops/permissions", body.clone())
            .await;
        assert_json_error(status, &resp, StatusCode::BAD_REQUEST, &body.to_string());
        assert!(
            resp["message"]
                .as_str()
                .unwrap()
                .contains("no per-folder permissions"),
            "{resp}"
        );
    }
    // Malformed bodies are 400 too.
    for body in [
        json!({}),
        json!({"items": "all"}),
        json!({"items": [{"role": "Viewer"}]}),
    ] {
        let (status, resp) = admin
            .post("/api/folders/ops/permissions", body.clone())
            .await;
        assert_json_error(status, &resp, StatusCode::BAD_REQUEST, &body.to_string());
    }

    // An unknown folder is 404 for both.
    let (status, resp) = admin.get("/api/folders/nope/permissions").await;
    assert_json_error(status, &resp, StatusCode::NOT_FOUND, "GET unknown folder");
    let (status, resp) = admin
        .post("/api/folders/nope/permissions", json!({"items": acl}))
        .await;
    assert_json_error(status, &resp, StatusCode::NOT_FOUND, "POST unknown folder");

    // Folder permissions are an org admin's: Editor and Viewer get 403, no credentials 401.
    for role in ["Editor", "Viewer"] {
        let client = px.user_with_role(&format!("perm-{role}"), role).await;
        let (status, resp) = client.get("/api/folders/ops/permissions").await;
        assert_json_error(status, &resp, StatusCode::FORBIDDEN, role);
        let (status, resp) = client
            .post("/api/folders/ops/permissions", json!({"items": acl}))
            .await;
        assert_json_error(status, &resp, StatusCode::FORBIDDEN, role);
    }
    let (status, _) = px.anonymous().get("/api/folders/ops/permissions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

backend_matrix!(empty_listings_in_grafanas_shapes, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let viewer = px.user_with_role("compat-viewer", "Viewer").await;

    // Snapshots: a Viewer lists them; there are none.
    for client in [&admin, &viewer] {
        let (status, body) = client.get("/api/dashboard/snapshots").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!([]));
    }

    // Library elements: Grafana's paged envelope, echoing page and perPage.
    let (status, body) = viewer.get("/api/library-elements").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"result": {"totalCount": 0, "elements": [], "page": 1, "perPage": 100}})
    );
    let (status, body) = admin.get("/api/library-elements?perPage=5000&page=2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["perPage"], 5000);
    assert_eq!(body["result"]["page"], 2);

    // Teams: the org admin's search, empty.
    let (status, body) = admin.get("/api/teams/search?perPage=5000").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"totalCount": 0, "teams": [], "page": 1, "perPage": 5000})
    );
    let (status, body) = admin.get("/api/teams/search").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["perPage"], 1000);
    let (status, body) = viewer.get("/api/teams/search").await;
    assert_json_error(status, &body, StatusCode::FORBIDDEN, "viewer teams");

    // A page that is not a number means the first, as in Grafana.
    let (status, body) = admin.get("/api/library-elements?page=x&perPage=-3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["page"], 1);
    assert_eq!(body["result"]["perPage"], 100);

    // Every route wants credentials.
    for path in [
        "/api/dashboard/snapshots",
        "/api/library-elements",
        "/api/teams/search",
    ] {
        let (status, _) = px.anonymous().get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
});

backend_matrix!(orgs_list_the_main_org, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();

    let (status, body) = admin.get("/api/orgs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([{"id": 1, "name": "Main Org."}]));
    let (status, body) = admin.get("/api/orgs/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 1);
    assert_eq!(body["name"], "Main Org.");
    assert_eq!(body["address"]["city"], "");
    // The same org as the caller's own view of it.
    let (_, own) = admin.get("/api/org").await;
    assert_eq!(body, own);

    // An update that keeps the name (what a backup tool's restore sends back) is accepted; a
    // rename is refused, and the name stays.
    let (status, body) = admin.put("/api/orgs/1", own.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Organization updated");
    let (status, body) = admin.put("/api/orgs/1", json!({"name": "Renamed"})).await;
    assert_json_error(status, &body, StatusCode::BAD_REQUEST, "rename");
    assert!(
        body["message"].as_str().unwrap().contains("cannot rename"),
        "{body}"
    );
    let (status, body) = admin.put("/api/orgs/1", json!({})).await;
    assert_json_error(status, &body, StatusCode::BAD_REQUEST, "no name");
    let (status, body) = admin.put("/api/orgs/2", json!({"name": "Main Org."})).await;
    assert_json_error(status, &body, StatusCode::NOT_FOUND, "PUT org 2");
    let (_, after) = admin.get("/api/orgs").await;
    assert_eq!(after, json!([{"id": 1, "name": "Main Org."}]));

    let (status, body) = admin.get("/api/orgs/2").await;
    assert_json_error(status, &body, StatusCode::NOT_FOUND, "org 2");
    let (status, body) = admin.get("/api/orgs/main").await;
    assert_json_error(status, &body, StatusCode::BAD_REQUEST, "org main");

    // Server admins only: an org admin who is not one gets 403.
    let org_admin = px.user_with_role("orgs-org-admin", "Admin").await;
    let (status, body) = org_admin.put("/api/orgs/1", own.clone()).await;
    assert_json_error(status, &body, StatusCode::FORBIDDEN, "org admin PUT");
    for path in ["/api/orgs", "/api/orgs/1"] {
        let (status, body) = org_admin.get(path).await;
        assert_json_error(status, &body, StatusCode::FORBIDDEN, path);
        let (status, _) = px.anonymous().get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
});

//! Users, orgs, roles and service accounts: who may call which route, the shapes Grafana's clients
//! read, and service-account and legacy API-key management. Every case runs on SQLite and on
//! PostgreSQL.

use pharos_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Sends `method path` with an optional JSON body.
async fn call(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = client.request(method, path);
    if let Some(body) = body {
        rb = rb.json(&body);
    }
    client.send(rb).await
}

/// A folder and a dashboard in it, made by the admin: (folder uid, dashboard uid).
async fn seed(px: &Pharos) -> (String, String) {
    let admin = px.admin();
    let (s, folder) = admin
        .post("/api/folders", json!({"title": "Seeded", "uid": "seeded"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{folder}");
    let (s, dash) = admin
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Seeded board", "uid": "seeded-board", "tags": ["seed"]},
                   "folderUid": "seeded"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{dash}");
    ("seeded".into(), "seeded-board".into())
}

async fn user_id(px: &Pharos, login: &str) -> i64 {
    let (s, u) = px
        .admin()
        .get(&format!("/api/users/lookup?loginOrEmail={login}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    u["id"].as_i64().unwrap()
}

backend_matrix!(viewers_read_but_do_not_write, |backend| async move {
    let px = Pharos::start(backend).await;
    let (folder, dash) = seed(&px).await;
    let viewer = px.user_with_role("vera", "Viewer").await;

    for path in [
        "/api/search".to_string(),
        "/api/search?query=Seeded".to_string(),
        format!("/api/dashboards/uid/{dash}"),
        format!("/api/dashboards/uid/{dash}/versions"),
        "/api/dashboards/home".to_string(),
        "/api/dashboards/tags".to_string(),
        "/api/folders".to_string(),
        format!("/api/folders/{folder}"),
        "/api/user".to_string(),
        "/api/user/orgs".to_string(),
        "/api/org".to_string(),
    ] {
        let (s, body) = viewer.get(&path).await;
        assert_eq!(s, StatusCode::OK, "viewer GET {path}: {body}");
    }
    let (_, hits) = viewer.get("/api/search?query=Seeded").await;
    assert!(
        hits.as_array().unwrap().iter().any(|h| h["uid"] == dash),
        "{hits}"
    );
    let (_, got) = viewer.get(&format!("/api/dashboards/uid/{dash}")).await;
    assert_eq!(got["meta"]["canSave"], false, "{got}");

    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/dashboards/db".into(),
            Some(json!({"dashboard": {"title": "Nope"}})),
        ),
        (
            Method::POST,
            "/api/dashboards/db".into(),
            Some(
                json!({"dashboard": {"title": "Seeded board", "uid": dash, "version": 1}, "folderUid": folder, "overwrite": true}),
            ),
        ),
        (Method::DELETE, format!("/api/dashboards/uid/{dash}"), None),
        (
            Method::POST,
            format!("/api/dashboards/uid/{dash}/restore"),
            Some(json!({"version": 1})),
        ),
        (
            Method::POST,
            "/api/dashboards/import".into(),
            Some(json!({"dashboard": {"title": "Imported"}, "overwrite": true})),
        ),
        (
            Method::POST,
            "/api/folders".into(),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::PUT,
            format!("/api/folders/{folder}"),
            Some(json!({"title": "Renamed", "version": 1})),
        ),
        (Method::DELETE, format!("/api/folders/{folder}"), None),
        (Method::GET, "/api/org/users".into(), None),
        (Method::GET, "/api/serviceaccounts/search".into(), None),
        (
            Method::POST,
            "/api/serviceaccounts".into(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/api/auth/keys".into(), None),
        (
            Method::POST,
            "/api/admin/users".into(),
            Some(json!({"login": "x", "password": "password1"})),
        ),
        (Method::GET, "/api/users".into(), None),
    ];
    for (method, path, body) in writes {
        let (s, resp) = call(&viewer, method.clone(), &path, body).await;
        assert_json_error(
            s,
            &resp,
            StatusCode::FORBIDDEN,
            &format!("viewer {method} {path}"),
        );
    }
    // Nothing changed.
    let (s, got) = px.admin().get(&format!("/api/dashboards/uid/{dash}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["dashboard"]["version"], 1, "{got}");
    assert_eq!(
        px.admin().get(&format!("/api/folders/{folder}")).await.0,
        StatusCode::OK
    );

    // Viewers may still star dashboards and change their own password, as in Grafana.
    let (s, body) = viewer
        .post(&format!("/api/user/stars/dashboard/uid/{dash}"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
});

backend_matrix!(
    editors_write_dashboards_but_do_not_administer,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let (folder, dash) = seed(&px).await;
        let editor = px.user_with_role("eddie", "Editor").await;

        let (s, f) = editor
            .post("/api/folders", json!({"title": "Eddie's"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let (s, d) = editor
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "Eddie's board"}, "folderUid": f["uid"]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let (s, body) = editor
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Seeded board", "uid": dash, "version": 1}, "folderUid": folder}),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::OK,
            "editors update others' dashboards: {body}"
        );
        let (s, body) = editor
            .delete(&format!(
                "/api/dashboards/uid/{}",
                d["uid"].as_str().unwrap()
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, got) = editor.get(&format!("/api/dashboards/uid/{dash}")).await;
        assert_eq!(got["meta"]["canSave"], true, "{got}");

        let admin_only: Vec<(Method, &str, Option<Value>)> = vec![
            (Method::GET, "/api/org/users", None),
            (
                Method::POST,
                "/api/org/users",
                Some(json!({"loginOrEmail": "admin", "role": "Viewer"})),
            ),
            (
                Method::PATCH,
                "/api/org/users/1",
                Some(json!({"role": "Viewer"})),
            ),
            (Method::DELETE, "/api/org/users/1", None),
            (Method::GET, "/api/serviceaccounts/search", None),
            (
                Method::POST,
                "/api/serviceaccounts",
                Some(json!({"name": "bot"})),
            ),
            (Method::GET, "/api/serviceaccounts/1", None),
            (Method::GET, "/api/auth/keys", None),
            (
                Method::POST,
                "/api/auth/keys",
                Some(json!({"name": "k", "role": "Admin"})),
            ),
            (
                Method::POST,
                "/api/admin/users",
                Some(json!({"login": "x", "password": "password1"})),
            ),
            (Method::GET, "/api/admin/users", None),
            (Method::GET, "/api/users", None),
            (Method::GET, "/api/users/search", None),
            (Method::GET, "/api/users/lookup?loginOrEmail=admin", None),
        ];
        for (method, path, body) in admin_only {
            let (s, resp) = call(&editor, method.clone(), path, body).await;
            if path == "/api/admin/users" && method == Method::GET {
                // Grafana has no GET on this path: 405 (or 403 before routing) are both refusals.
                assert!(
                    s == StatusCode::FORBIDDEN || s == StatusCode::METHOD_NOT_ALLOWED,
                    "{s}"
                );
                continue;
            }
            assert_json_error(
                s,
                &resp,
                StatusCode::FORBIDDEN,
                &format!("editor {method} {path}"),
            );
        }
        // The editor's attempt to demote the admin changed nothing.
        let (_, members) = px.admin().get("/api/org/users").await;
        let admin = members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["login"] == "admin")
            .unwrap();
        assert_eq!(admin["role"], "Admin");
    }
);

backend_matrix!(
    org_admins_manage_the_org_but_not_the_server,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let olga = px.user_with_role("olga", "Admin").await;
        px.user_with_role("pat", "Viewer").await;
        let pat = user_id(&px, "pat").await;

        let (s, members) = olga.get("/api/org/users").await;
        assert_eq!(s, StatusCode::OK, "{members}");
        assert_eq!(members.as_array().unwrap().len(), 3, "{members}");
        let (s, body) = olga
            .patch(&format!("/api/org/users/{pat}"), json!({"role": "Editor"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, sa) = olga
            .post(
                "/api/serviceaccounts",
                json!({"name": "olga-bot", "role": "Viewer"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{sa}");
        let (s, list) = olga.get("/api/serviceaccounts/search").await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(list["totalCount"], 1);
        let (s, key) = olga
            .post(
                "/api/auth/keys",
                json!({"name": "olga-key", "role": "Viewer"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{key}");
        let (s, _) = olga.get("/api/auth/keys").await;
        assert_eq!(s, StatusCode::OK);

        // Server-admin routes stay closed to an org admin who is not a server admin.
        let me = olga.get("/api/user").await.1;
        assert_eq!(me["isGrafanaAdmin"], false, "{me}");
        let server_admin_only: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/api/users".into(), None),
            (Method::GET, "/api/users/search".into(), None),
            (
                Method::GET,
                "/api/users/lookup?loginOrEmail=pat".into(),
                None,
            ),
            (Method::GET, format!("/api/users/{pat}"), None),
            (Method::GET, format!("/api/users/{pat}/orgs"), None),
            (
                Method::POST,
                "/api/admin/users".into(),
                Some(json!({"login": "mallory", "password": "password1"})),
            ),
            (
                Method::PUT,
                format!("/api/admin/users/{pat}/password"),
                Some(json!({"password": "password9"})),
            ),
            (
                Method::PUT,
                format!("/api/admin/users/{pat}/permissions"),
                Some(json!({"isGrafanaAdmin": true})),
            ),
            (Method::DELETE, format!("/api/admin/users/{pat}"), None),
        ];
        for (method, path, body) in server_admin_only {
            let (s, resp) = call(&olga, method.clone(), &path, body).await;
            assert_json_error(
                s,
                &resp,
                StatusCode::FORBIDDEN,
                &format!("org admin {method} {path}"),
            );
        }
        assert_eq!(
            px.basic("pat", "password1").get("/api/user").await.0,
            StatusCode::OK,
            "pat's password was not changed"
        );
        let (_, pat_user) = px.admin().get(&format!("/api/users/{pat}")).await;
        assert_eq!(pat_user["isGrafanaAdmin"], false);
        assert_eq!(
            px.admin()
                .get("/api/users/lookup?loginOrEmail=mallory")
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

backend_matrix!(anonymous_callers_get_401_everywhere, |backend| async move {
    let px = Pharos::start(backend).await;
    let anon = px.anonymous();
    for (method, path) in [
        (Method::GET, "/api/user"),
        (Method::GET, "/api/user/orgs"),
        (Method::PUT, "/api/user/password"),
        (Method::GET, "/api/org"),
        (Method::GET, "/api/org/users"),
        (Method::GET, "/api/users"),
        (Method::GET, "/api/users/lookup?loginOrEmail=admin"),
        (Method::POST, "/api/admin/users"),
        (Method::GET, "/api/search"),
        (Method::POST, "/api/dashboards/db"),
        (Method::GET, "/api/folders"),
        (Method::GET, "/api/serviceaccounts/search"),
        (Method::POST, "/api/serviceaccounts"),
        (Method::GET, "/api/auth/keys"),
    ] {
        let (s, body) = call(&anon, method.clone(), path, Some(json!({}))).await;
        assert_json_error(
            s,
            &body,
            StatusCode::UNAUTHORIZED,
            &format!("anonymous {method} {path}"),
        );
    }
});

backend_matrix!(current_user_and_org_shapes, |backend| async move {
    let px = Pharos::start(backend).await;
    let (s, me) = px.admin().get("/api/user").await;
    assert_eq!(s, StatusCode::OK);
    for key in [
        "id",
        "login",
        "email",
        "name",
        "orgId",
        "isGrafanaAdmin",
        "isDisabled",
        "theme",
        "createdAt",
        "updatedAt",
    ] {
        assert!(me.get(key).is_some(), "GET /api/user lacks {key}: {me}");
    }
    assert_eq!(me["login"], "admin");
    assert_eq!(me["email"], "admin@localhost");
    assert_eq!(me["orgId"], 1);

    let (s, orgs) = px.admin().get("/api/user/orgs").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        orgs,
        json!([{"orgId": 1, "name": "Main Org.", "role": "Admin"}])
    );

    let (s, org) = px.admin().get("/api/org").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(org["id"], 1);
    assert_eq!(org["name"], "Main Org.");

    let viewer = px.user_with_role("vic", "Viewer").await;
    let (s, me) = viewer.get("/api/user").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["login"], "vic");
    assert_eq!(me["email"], "vic@example.com");
    assert_eq!(me["isGrafanaAdmin"], false);
    let (_, orgs) = viewer.get("/api/user/orgs").await;
    assert_eq!(
        orgs,
        json!([{"orgId": 1, "name": "Main Org.", "role": "Viewer"}])
    );

    let (s, members) = px.admin().get("/api/org/users").await;
    assert_eq!(s, StatusCode::OK);
    let members = members.as_array().unwrap().clone();
    assert_eq!(members.len(), 2);
    for m in &members {
        for key in [
            "orgId",
            "userId",
            "login",
            "email",
            "role",
            "lastSeenAt",
            "avatarUrl",
        ] {
            assert!(m.get(key).is_some(), "org user lacks {key}: {m}");
        }
        assert_eq!(m["orgId"], 1);
    }
    let vic = members.iter().find(|m| m["login"] == "vic").unwrap();
    assert_eq!(vic["role"], "Viewer");
    assert_eq!(vic["email"], "vic@example.com");
    assert_eq!(vic["userId"], me["id"]);
    let admin = members.iter().find(|m| m["login"] == "admin").unwrap();
    assert_eq!(admin["role"], "Admin");

    // A profile update through PUT /api/user shows up everywhere.
    let (s, body) = viewer
        .put(
            "/api/user",
            json!({"name": "Victor", "email": "victor@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, me) = viewer.get("/api/user").await;
    assert_eq!(me["name"], "Victor");
    assert_eq!(me["email"], "victor@example.com");
    // Taking someone else's login is refused.
    let (s, body) = viewer.put("/api/user", json!({"login": "ADMIN"})).await;
    assert!(s.is_client_error(), "{s} {body}");
    assert_eq!(viewer.get("/api/user").await.1["login"], "vic");
});

backend_matrix!(
    server_admins_list_search_and_look_up_users,
    |backend| async move {
        let px = Pharos::start(backend).await;
        for login in ["zoe", "zack", "bob"] {
            px.user_with_role(login, "Viewer").await;
        }
        let admin = px.admin();
        let (s, users) = admin.get("/api/users").await;
        assert_eq!(s, StatusCode::OK, "{users}");
        let users = users.as_array().unwrap().clone();
        assert_eq!(users.len(), 4);
        for u in &users {
            for key in [
                "id",
                "login",
                "email",
                "name",
                "isAdmin",
                "isDisabled",
                "lastSeenAt",
            ] {
                assert!(u.get(key).is_some(), "listed user lacks {key}: {u}");
            }
        }
        assert!(users
            .iter()
            .any(|u| u["login"] == "admin" && u["isAdmin"] == true));
        assert!(users
            .iter()
            .any(|u| u["login"] == "bob" && u["isAdmin"] == false));

        let (_, page) = admin.get("/api/users?perpage=2&page=2").await;
        assert_eq!(page.as_array().unwrap().len(), 2, "{page}");

        let (s, found) = admin
            .get("/api/users/search?query=z&perpage=1&page=1")
            .await;
        assert_eq!(s, StatusCode::OK, "{found}");
        assert_eq!(found["totalCount"], 2, "{found}");
        assert_eq!(found["users"].as_array().unwrap().len(), 1, "{found}");
        assert_eq!(found["page"], 1);
        assert_eq!(found["perPage"], 1);
        let (_, second) = admin
            .get("/api/users/search?query=z&perpage=1&page=2")
            .await;
        assert_eq!(second["users"].as_array().unwrap().len(), 1);
        assert_ne!(second["users"][0]["login"], found["users"][0]["login"]);
        let (_, none) = admin.get("/api/users/search?query=zzz").await;
        assert_eq!(none["totalCount"], 0);
        assert_eq!(none["users"], json!([]));

        let (s, bob) = admin.get("/api/users/lookup?loginOrEmail=bob").await;
        assert_eq!(s, StatusCode::OK, "{bob}");
        assert_eq!(bob["login"], "bob");
        let (s, by_mail) = admin
            .get("/api/users/lookup?loginOrEmail=BOB@example.com")
            .await;
        assert_eq!(s, StatusCode::OK, "{by_mail}");
        assert_eq!(by_mail["id"], bob["id"]);
        let (s, body) = admin.get("/api/users/lookup?loginOrEmail=nobody").await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, "unknown lookup");
        let (s, body) = admin.get("/api/users/lookup").await;
        assert!(s.is_client_error(), "{s} {body}");

        let id = bob["id"].as_i64().unwrap();
        let (s, got) = admin.get(&format!("/api/users/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(got["login"], "bob");
        let (s, orgs) = admin.get(&format!("/api/users/{id}/orgs")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            orgs,
            json!([{"orgId": 1, "name": "Main Org.", "role": "Viewer"}])
        );
        let (s, body) = admin.get("/api/users/987654").await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, "unknown user id");

        // Deleting a user: gone from lists, its credentials stop working.
        let (s, body) = admin.delete(&format!("/api/admin/users/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            admin.get("/api/users/lookup?loginOrEmail=bob").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            px.basic("bob", "password1").get("/api/user").await.0,
            StatusCode::UNAUTHORIZED
        );
        let (s, body) = admin.delete(&format!("/api/admin/users/{id}")).await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleting twice");
    }
);

backend_matrix!(admin_creates_users_like_grafana, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (s, created) = admin
        .post(
            "/api/admin/users",
            json!({"name": "Gina", "login": "gina", "email": "gina@example.com", "password": "password1"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    assert!(created["id"].as_i64().unwrap() > 1, "{created}");
    assert!(created["message"].is_string(), "{created}");

    // The new user signs in and is a Viewer of the default org.
    let gina = px.basic("gina", "password1");
    let (s, me) = gina.get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "Gina");
    assert_eq!(me["isGrafanaAdmin"], false);
    assert_eq!(gina.get("/api/user/orgs").await.1[0]["role"], "Viewer");

    // Duplicates answer 412, as Grafana does, whether the login or the e-mail collides.
    for dup in [
        json!({"login": "gina", "email": "other@example.com", "password": "password1"}),
        json!({"login": "GINA", "email": "other2@example.com", "password": "password1"}),
        json!({"login": "gina2", "email": "gina@example.com", "password": "password1"}),
        json!({"login": "gina3", "email": "Gina@Example.com", "password": "password1"}),
    ] {
        let (s, body) = admin.post("/api/admin/users", dup.clone()).await;
        assert_json_error(
            s,
            &body,
            StatusCode::PRECONDITION_FAILED,
            &format!("duplicate {dup}"),
        );
    }
    // Missing or bad fields.
    for bad in [
        json!({"login": "x1", "email": "x1@example.com"}),
        json!({"login": "x2", "password": "pw"}),
        json!({"email": "", "login": "", "password": "password1"}),
    ] {
        let (s, body) = admin.post("/api/admin/users", bad.clone()).await;
        assert_json_error(
            s,
            &body,
            StatusCode::BAD_REQUEST,
            &format!("bad user {bad}"),
        );
    }
    // A user may be created with only an e-mail, which becomes the login.
    let (s, body) = admin
        .post(
            "/api/admin/users",
            json!({"email": "mail-only@example.com", "password": "password1"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, _) = px
        .basic("mail-only@example.com", "password1")
        .get("/api/user")
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, users) = admin.get("/api/users").await;
    assert_eq!(users.as_array().unwrap().len(), 3, "{users}");

    // Server-admin permission can be granted, and then opens the server-admin routes.
    let id = created["id"].as_i64().unwrap();
    assert_eq!(gina.get("/api/users").await.0, StatusCode::FORBIDDEN);
    let (s, body) = admin
        .put(
            &format!("/api/admin/users/{id}/permissions"),
            json!({"isGrafanaAdmin": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(gina.get("/api/users").await.0, StatusCode::OK);
});

backend_matrix!(role_changes_take_effect_at_once, |backend| async move {
    let px = Pharos::start(backend).await;
    let rita = px.user_with_role("rita", "Viewer").await;
    let id = user_id(&px, "rita").await;
    // Also a browser session, which must see the change without logging in again.
    let browser = px.browser();
    let (s, body) = browser
        .post("/login", json!({"user": "rita", "password": "password1"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let board = |title: &str| json!({"dashboard": {"title": title}});

    assert_eq!(
        rita.post("/api/dashboards/db", board("a")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.post("/api/dashboards/db", board("b")).await.0,
        StatusCode::FORBIDDEN
    );

    let admin = px.admin();
    let (s, body) = admin
        .patch(&format!("/api/org/users/{id}"), json!({"role": "Editor"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        rita.post("/api/dashboards/db", board("c")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        browser.post("/api/dashboards/db", board("d")).await.0,
        StatusCode::OK
    );
    assert_eq!(rita.get("/api/org/users").await.0, StatusCode::FORBIDDEN);
    let (_, members) = admin.get("/api/org/users").await;
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["login"] == "rita" && m["role"] == "Editor"));

    let (s, _) = admin
        .patch(&format!("/api/org/users/{id}"), json!({"role": "admin"}))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "role names are case-insensitive, as in Grafana"
    );
    assert_eq!(rita.get("/api/org/users").await.0, StatusCode::OK);
    assert_eq!(browser.get("/api/org/users").await.0, StatusCode::OK);

    admin
        .patch(&format!("/api/org/users/{id}"), json!({"role": "Viewer"}))
        .await;
    assert_eq!(
        rita.post("/api/dashboards/db", board("e")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(browser.get("/api/org/users").await.0, StatusCode::FORBIDDEN);

    let (s, body) = admin
        .patch(&format!("/api/org/users/{id}"), json!({"role": "Overlord"}))
        .await;
    assert_json_error(s, &body, StatusCode::BAD_REQUEST, "unknown role");
    let (s, body) = admin
        .patch("/api/org/users/424242", json!({"role": "Editor"}))
        .await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "unknown member");
    // The last word on one's own role: an admin cannot demote themselves into lockout.
    let (s, body) = admin
        .patch("/api/org/users/1", json!({"role": "Viewer"}))
        .await;
    assert!(s.is_client_error(), "{s} {body}");

    // Removing a member from the org takes their access away.
    let (s, body) = admin.delete(&format!("/api/org/users/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = rita.get("/api/search").await;
    assert_json_error(s, &body, StatusCode::FORBIDDEN, "removed member");
    // And adding them back restores it.
    let (s, body) = admin
        .post(
            "/api/org/users",
            json!({"loginOrEmail": "rita", "role": "Editor"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        rita.post("/api/dashboards/db", board("f")).await.0,
        StatusCode::OK
    );
    let (s, body) = admin
        .post(
            "/api/org/users",
            json!({"loginOrEmail": "rita", "role": "Editor"}),
        )
        .await;
    assert_json_error(s, &body, StatusCode::CONFLICT, "already a member");
});

backend_matrix!(service_accounts_crud, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (s, sa) = admin
        .post(
            "/api/serviceaccounts",
            json!({"name": "CI Bot", "role": "Editor"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sa}");
    let id = sa["id"].as_i64().unwrap();
    assert_eq!(sa["name"], "CI Bot");
    assert_eq!(sa["login"], "sa-ci-bot");
    assert_eq!(sa["role"], "Editor");
    assert_eq!(sa["isDisabled"], false);
    assert_eq!(sa["orgId"], 1);

    let (s, body) = admin
        .post("/api/serviceaccounts", json!({"name": "CI Bot"}))
        .await;
    assert_json_error(s, &body, StatusCode::CONFLICT, "duplicate service account");
    let (s, body) = admin
        .post("/api/serviceaccounts", json!({"name": ""}))
        .await;
    assert_json_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "nameless service account",
    );
    let (s, body) = admin
        .post("/api/serviceaccounts", json!({"name": "x", "role": "God"}))
        .await;
    assert_json_error(s, &body, StatusCode::BAD_REQUEST, "unknown role");
    let (s, other) = admin
        .post("/api/serviceaccounts", json!({"name": "Other"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    assert_eq!(other["role"], "Viewer", "the default role: {other}");

    let (s, found) = admin.get("/api/serviceaccounts/search").await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert_eq!(found["totalCount"], 2, "{found}");
    let accounts = found["serviceAccounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    for a in accounts {
        for key in [
            "id",
            "name",
            "login",
            "orgId",
            "isDisabled",
            "role",
            "tokens",
        ] {
            assert!(
                a.get(key).is_some(),
                "listed service account lacks {key}: {a}"
            );
        }
    }
    assert_eq!(found["page"], 1);
    let (_, q) = admin
        .get("/api/serviceaccounts/search?query=ci&perpage=10&page=1")
        .await;
    assert_eq!(q["totalCount"], 1, "{q}");
    assert_eq!(q["serviceAccounts"][0]["id"], id);
    assert_eq!(q["serviceAccounts"][0]["tokens"], 0);
    let (_, paged) = admin
        .get("/api/serviceaccounts/search?perpage=1&page=2")
        .await;
    assert_eq!(paged["totalCount"], 2);
    assert_eq!(paged["serviceAccounts"].as_array().unwrap().len(), 1);

    let (s, got) = admin.get(&format!("/api/serviceaccounts/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["name"], "CI Bot");

    let (s, updated) = admin
        .patch(
            &format!("/api/serviceaccounts/{id}"),
            json!({"name": "Deploy Bot", "role": "Admin", "isDisabled": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    let (_, got) = admin.get(&format!("/api/serviceaccounts/{id}")).await;
    assert_eq!(got["name"], "Deploy Bot");
    assert_eq!(got["role"], "Admin");
    assert_eq!(got["isDisabled"], true);
    assert_eq!(got["login"], "sa-deploy-bot");
    let (s, body) = admin
        .patch(
            &format!("/api/serviceaccounts/{id}"),
            json!({"name": "Other"}),
        )
        .await;
    assert_json_error(
        s,
        &body,
        StatusCode::CONFLICT,
        "renaming onto another account",
    );
    let (s, body) = admin
        .patch("/api/serviceaccounts/999999", json!({"name": "Ghost"}))
        .await;
    assert_json_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "patching a missing account",
    );

    let (s, body) = admin.delete(&format!("/api/serviceaccounts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = admin.get(&format!("/api/serviceaccounts/{id}")).await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleted account");
    let (s, body) = admin.delete(&format!("/api/serviceaccounts/{id}")).await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleting twice");
    let (_, found) = admin.get("/api/serviceaccounts/search").await;
    assert_eq!(found["totalCount"], 1, "{found}");
});

backend_matrix!(
    service_account_tokens_are_shown_once,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let (_, sa) = admin
            .post(
                "/api/serviceaccounts",
                json!({"name": "tokens", "role": "Viewer"}),
            )
            .await;
        let id = sa["id"].as_i64().unwrap();
        let (s, first) = admin
            .post(
                &format!("/api/serviceaccounts/{id}/tokens"),
                json!({"name": "first"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{first}");
        let key = first["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("glsa_"), "{key}");
        assert!(key.len() > 30, "{key}");
        assert_eq!(first["name"], "first");
        let (s, second) = admin
            .post(
                &format!("/api/serviceaccounts/{id}/tokens"),
                json!({"name": "second", "secondsToLive": 3600}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{second}");
        let second_key = second["key"].as_str().unwrap().to_string();
        assert_ne!(key, second_key);

        let (s, body) = admin
            .post(
                &format!("/api/serviceaccounts/{id}/tokens"),
                json!({"name": "first"}),
            )
            .await;
        assert_json_error(s, &body, StatusCode::CONFLICT, "duplicate token name");
        let (s, body) = admin
            .post("/api/serviceaccounts/987654/tokens", json!({"name": "x"}))
            .await;
        assert_json_error(
            s,
            &body,
            StatusCode::NOT_FOUND,
            "token for a missing account",
        );

        let (s, tokens) = admin
            .get(&format!("/api/serviceaccounts/{id}/tokens"))
            .await;
        assert_eq!(s, StatusCode::OK, "{tokens}");
        let text = tokens.to_string();
        assert!(
            !text.contains(&key) && !text.contains(&second_key),
            "a listing shows a key: {text}"
        );
        assert!(!text.contains("glsa_"), "{text}");
        let list = tokens.as_array().unwrap();
        assert_eq!(list.len(), 2);
        for t in list {
            assert!(t.get("key").is_none(), "{t}");
            for k in ["id", "name", "created", "expiration", "hasExpired"] {
                assert!(t.get(k).is_some(), "token lacks {k}: {t}");
            }
        }
        let first_listed = list.iter().find(|t| t["name"] == "first").unwrap();
        assert!(first_listed["expiration"].is_null(), "{first_listed}");
        let second_listed = list.iter().find(|t| t["name"] == "second").unwrap();
        assert!(second_listed["expiration"].is_string(), "{second_listed}");
        assert_eq!(second_listed["hasExpired"], false);

        let (_, found) = admin.get("/api/serviceaccounts/search?query=tokens").await;
        assert_eq!(found["serviceAccounts"][0]["tokens"], 2, "{found}");

        // Using a token marks it used; the listing still never reveals it.
        assert_eq!(px.bearer(&key).get("/api/search").await.0, StatusCode::OK);

        let token_id = first["id"].as_i64().unwrap();
        let (s, body) = admin
            .delete(&format!("/api/serviceaccounts/{id}/tokens/{token_id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = admin
            .delete(&format!("/api/serviceaccounts/{id}/tokens/{token_id}"))
            .await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleting a token twice");
        let (_, tokens) = admin
            .get(&format!("/api/serviceaccounts/{id}/tokens"))
            .await;
        assert_eq!(tokens.as_array().unwrap().len(), 1);
        let (_, found) = admin.get("/api/serviceaccounts/search?query=tokens").await;
        assert_eq!(found["serviceAccounts"][0]["tokens"], 1, "{found}");
        assert_eq!(
            px.bearer(&key).get("/api/search").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            px.bearer(&second_key).get("/api/search").await.0,
            StatusCode::OK
        );

        // The stored form is a hash: no trace of the key in the database.
        if backend == Backend::Postgres {
            let stored = psql_at(&px.db.url, "select key_hash from api_tokens");
            assert!(!stored.contains(&second_key));
            assert!(!stored.contains("glsa_"), "{stored}");
        }
    }
);

backend_matrix!(legacy_api_keys, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (s, created) = admin
        .post("/api/auth/keys", json!({"name": "deploy", "role": "Admin"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "deploy");
    assert!(created["id"].is_i64(), "{created}");
    let (s, viewer_key) = admin
        .post(
            "/api/auth/keys",
            json!({"name": "reader", "role": "Viewer", "secondsToLive": 600}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{viewer_key}");
    let viewer_key = viewer_key["key"].as_str().unwrap().to_string();

    let (s, body) = admin
        .post(
            "/api/auth/keys",
            json!({"name": "deploy", "role": "Viewer"}),
        )
        .await;
    assert_json_error(s, &body, StatusCode::CONFLICT, "duplicate key name");
    let (s, body) = admin
        .post("/api/auth/keys", json!({"role": "Viewer"}))
        .await;
    assert_json_error(s, &body, StatusCode::BAD_REQUEST, "nameless key");
    let (s, body) = admin
        .post("/api/auth/keys", json!({"name": "x", "role": "Root"}))
        .await;
    assert_json_error(s, &body, StatusCode::BAD_REQUEST, "unknown role");

    let (s, keys) = admin.get("/api/auth/keys").await;
    assert_eq!(s, StatusCode::OK, "{keys}");
    let text = keys.to_string();
    assert!(
        !text.contains(&key) && !text.contains(&viewer_key),
        "{text}"
    );
    let list = keys.as_array().unwrap();
    assert_eq!(list.len(), 2, "{keys}");
    let deploy = list.iter().find(|k| k["name"] == "deploy").unwrap();
    assert_eq!(deploy["role"], "Admin");
    assert_eq!(deploy["id"], created["id"]);
    assert!(deploy.get("key").is_none());
    let reader = list.iter().find(|k| k["name"] == "reader").unwrap();
    assert_eq!(reader["role"], "Viewer");
    assert!(reader["expiration"].is_string(), "{reader}");

    // Keys authenticate with their role, by bearer and by basic `api_key`.
    let (s, body) = px.bearer(&key).get("/api/org/users").await;
    assert_eq!(s, StatusCode::OK, "an Admin key administers: {body}");
    let (s, _) = px.basic("api_key", &key).get("/api/org/users").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        px.bearer(&viewer_key).get("/api/search").await.0,
        StatusCode::OK
    );
    assert_eq!(
        px.bearer(&viewer_key).get("/api/org/users").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        px.bearer(&viewer_key)
            .post("/api/dashboards/db", json!({"dashboard": {"title": "no"}}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let id = created["id"].as_i64().unwrap();
    let (s, body) = admin.delete(&format!("/api/auth/keys/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = px.bearer(&key).get("/api/org/users").await;
    assert_json_error(s, &body, StatusCode::UNAUTHORIZED, "deleted key");
    let (s, body) = admin.delete(&format!("/api/auth/keys/{id}")).await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleting a key twice");
    let (_, keys) = admin.get("/api/auth/keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    // A service-account token is not a legacy key and cannot be deleted as one.
    let (_, sa) = admin
        .post("/api/serviceaccounts", json!({"name": "plain"}))
        .await;
    let (_, tok) = admin
        .post(
            &format!("/api/serviceaccounts/{}/tokens", sa["id"]),
            json!({"name": "t"}),
        )
        .await;
    let (s, body) = admin.delete(&format!("/api/auth/keys/{}", tok["id"])).await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "deleting a token as a key");
    assert_eq!(
        px.bearer(tok["key"].as_str().unwrap())
            .get("/api/search")
            .await
            .0,
        StatusCode::OK
    );
});

//! The basics every other test relies on: start-up, health and the admin's credentials.

use pharos_testkit::*;
use reqwest::StatusCode;

backend_matrix!(health_and_admin, |backend| async move {
    let px = Pharos::start(backend).await;
    let (status, body) = px.admin().get("/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
    assert!(body["version"].as_str().unwrap().contains("pharos"));
    // Probes ignore credentials: a balancer's check with a stale password still sees "up".
    let (status, body) = px.basic("admin", "wrong").get("/api/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = px.basic("admin", "wrong").get("/api/user").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = px.admin().get("/api").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string(), "{body}");
    let (status, body) = px.anonymous().get("/api/user").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = px.admin().get("/api/user").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["login"], "admin");
    assert_eq!(body["isGrafanaAdmin"], true);
});

backend_matrix!(legacy_ids_and_frontend_settings, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let (s, saved) = admin
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "By id"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let id = saved["id"].as_i64().unwrap();
    // Legacy numeric routes and parameters still used by older scripts.
    let (s, body) = admin
        .post(&format!("/api/user/stars/dashboard/{id}"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, stars) = admin.get("/api/user/stars").await;
    assert_eq!(stars, json!([saved["uid"]]));
    let (s, hits) = admin.get(&format!("/api/search?dashboardIds={id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["isStarred"], true);
    let (s, _) = admin
        .delete(&format!("/api/user/stars/dashboard/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, stars) = admin.get("/api/user/stars").await;
    assert_eq!(stars, json!([]));
    let (s, _) = admin
        .post("/api/user/stars/dashboard/999999", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // grafana-client reads the server version here.
    let (s, settings) = admin.get("/api/frontend/settings").await;
    assert_eq!(s, StatusCode::OK);
    assert!(settings["buildInfo"]["version"]
        .as_str()
        .unwrap()
        .starts_with("11."));
    let (s, _) = px.anonymous().get("/api/frontend/settings").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
});

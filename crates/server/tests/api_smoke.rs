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

//! Search answers are gzipped for clients that ask (browsers and python-requests do by default).

use std::io::Read;

use pharos_testkit::*;
use reqwest::{Method, StatusCode};

/// The gzipped body, decoded; asserts it was at least `factor` times smaller than its text.
async fn gunzip_smaller_by(resp: reqwest::Response, factor: usize) -> String {
    let compressed = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(
        compressed.len() * factor < text.len(),
        "{} compressed vs {} plain",
        compressed.len(),
        text.len()
    );
    text
}

backend_matrix!(search_is_gzipped_when_accepted, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    for i in 0..50 {
        let (s, body) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": format!("Zip {i:02}"), "tags": ["z"]}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (s, plain) = admin.get("/api/search?tag=z").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(plain.as_array().unwrap().len(), 50);

    let resp = admin
        .request(Method::GET, "/api/search?tag=z")
        .header("accept-encoding", "gzip, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.headers()["vary"], "Accept-Encoding");
    let text = gunzip_smaller_by(resp, 3).await;
    let unzipped: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(unzipped, plain);

    // q=0 refuses gzip.
    let resp = admin
        .request(Method::GET, "/api/search?tag=z")
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body, plain);
});

backend_matrix!(
    dashboard_answers_are_gzipped_and_per_viewer,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let panels: Vec<_> = (0..200)
        .map(|i| json!({"id": i, "type": "timeseries", "title": format!("Panel {i}"), "targets": [{"expr": "up"}]}))
        .collect();
        let (s, saved) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "Big", "panels": panels}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{saved}");
        let uid = saved["uid"].as_str().unwrap().to_string();
        let path = format!("/api/dashboards/uid/{uid}");
        let (_, plain) = admin.get(&path).await;
        assert_eq!(plain["meta"]["canSave"], true);

        let resp = admin
            .request(Method::GET, &path)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        let text = gunzip_smaller_by(resp, 5).await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            plain
        );

        // The cached answer is per kind of viewer: a Viewer's meta says it cannot save, and a star
        // shows at once for the user who starred and nobody else.
        let viewer = px.user_with_role("vic", "Viewer").await;
        let (_, seen) = viewer.get(&path).await;
        assert_eq!(seen["meta"]["canSave"], false);
        assert_eq!(seen["dashboard"], plain["dashboard"]);
        let (s, _) = viewer
            .post(&format!("/api/user/stars/dashboard/uid/{uid}"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, seen) = viewer.get(&path).await;
        assert_eq!(seen["meta"]["isStarred"], true);
        let (_, by_admin) = admin.get(&path).await;
        assert_eq!(by_admin["meta"]["isStarred"], false);
        assert_eq!(by_admin["meta"]["canSave"], true);
    }
);

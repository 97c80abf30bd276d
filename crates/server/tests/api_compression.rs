//! Search answers are gzipped for clients that ask (browsers and python-requests do by default).

use std::io::Read;

use pharos_testkit::*;
use reqwest::{Method, StatusCode};

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
    let compressed = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(
        compressed.len() * 3 < text.len(),
        "{} compressed vs {} plain",
        compressed.len(),
        text.len()
    );
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

//! The web UI as the binary serves it, against a small fake `web/dist` given through
//! `server.web_dir` (so the tests do not depend on whether the real UI was built): `index.html` for
//! page routes, uncached; hashed assets with immutable caching and their content types; gzip and
//! ETags; API 404s stay JSON; GET /login is the page while POST /login still logs in. SQLite only:
//! nothing here touches the database beyond logging in.

use std::io::Read;
use std::path::{Path, PathBuf};

use pharos_testkit::*;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

const INDEX: &str = "<!doctype html><html><head><title>Pharos UI</title>\
<script type=\"module\" src=\"/assets/index-Ab12Cd34.js\"></script></head>\
<body><div id=\"root\"></div></body></html>";

/// A dist folder as Vite writes it: index.html, hashed assets, a favicon.
fn fake_dist() -> PathBuf {
    let dir = scratch_dir("pharos-web-dist");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    // Big enough (and repetitive enough) that gzip pays.
    let js = "export function hello(name) { return `hello ${name}`; }\n".repeat(200);
    std::fs::write(dir.join("assets/index-Ab12Cd34.js"), js).unwrap();
    std::fs::write(
        dir.join("assets/index-Ef56Gh78.css"),
        "body { margin: 0; }\n",
    )
    .unwrap();
    std::fs::write(dir.join("assets/logo-99aa.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(
        dir.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    dir
}

async fn start_with_web_dir(dir: &Path) -> Pharos {
    Pharos::start_with(
        Database::fresh(Backend::Sqlite),
        Options::default().env("PHAROS_SERVER_WEB_DIR", dir.to_str().unwrap()),
    )
    .await
}

/// GET `path` with extra headers; status, headers and the body (decompressed when gzipped, with
/// the compressed length).
async fn fetch(
    client: &Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String, usize) {
    let mut rb = client.request(method, path);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let text = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("valid gzip");
        text
    } else {
        String::from_utf8_lossy(&bytes).to_string()
    };
    (status, headers, text, bytes.len())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_routes_get_index_html_uncached() {
    let dist = fake_dist();
    let px = start_with_web_dir(&dist).await;
    let anon = px.anonymous();
    for path in [
        "/",
        "/login",
        "/dashboards",
        "/d/pharos-demo/pharos-demo",
        "/d/pharos-demo?from=now-1h&to=now&var-x=a",
        "/explore/",
        "/index.html",
    ] {
        let (s, h, body, _) = fetch(&anon, Method::GET, path, &[]).await;
        assert_eq!(s, StatusCode::OK, "GET {path}");
        assert_eq!(body, INDEX, "GET {path}");
        assert_eq!(
            header(&h, "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(header(&h, "cache-control"), "no-cache", "{path}");
        assert!(header(&h, "etag").starts_with('"'), "{path}: ETag");
    }
    // Signed in, the same page (the app decides what to show).
    let (s, _, body, _) = fetch(&px.admin(), Method::GET, "/dashboards", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, INDEX);
    // HEAD answers the headers.
    let (s, h, _, _) = fetch(&anon, Method::HEAD, "/d/x", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "cache-control"), "no-cache");
    // A revalidation with the ETag costs a 304.
    let (_, h, _, _) = fetch(&anon, Method::GET, "/", &[]).await;
    let etag = header(&h, "etag").to_string();
    let (s, h, body, _) = fetch(&anon, Method::GET, "/d/x", &[("if-none-match", &etag)]).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&h, "cache-control"), "no-cache");
    // A new build of the UI is served without a restart (the directory is read per request).
    std::fs::write(dist.join("index.html"), "<!doctype html><p>v2</p>").unwrap();
    let (s, _, body, _) = fetch(&anon, Method::GET, "/d/x", &[("if-none-match", &etag)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, "<!doctype html><p>v2</p>");
    let _ = std::fs::remove_dir_all(&dist);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_immutable_typed_and_gzipped() {
    let dist = fake_dist();
    let px = start_with_web_dir(&dist).await;
    let anon = px.anonymous();
    let cases = [
        (
            "/assets/index-Ab12Cd34.js",
            "text/javascript; charset=utf-8",
        ),
        ("/assets/index-Ef56Gh78.css", "text/css; charset=utf-8"),
        ("/assets/logo-99aa.png", "image/png"),
    ];
    for (path, content_type) in cases {
        let (s, h, _, sent) = fetch(&anon, Method::GET, path, &[]).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert_eq!(header(&h, "content-type"), content_type, "{path}");
        assert_eq!(
            header(&h, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        assert!(
            h.get("content-encoding").is_none(),
            "{path}: not asked for gzip"
        );
        let on_disk = std::fs::read(dist.join(path.trim_start_matches('/'))).unwrap();
        assert_eq!(sent, on_disk.len(), "{path}");
    }

    // JavaScript gzipped when accepted (twice: the second answer comes from the cache).
    let js = std::fs::read_to_string(dist.join("assets/index-Ab12Cd34.js")).unwrap();
    for _ in 0..2 {
        let (s, h, body, sent) = fetch(
            &anon,
            Method::GET,
            "/assets/index-Ab12Cd34.js",
            &[("accept-encoding", "gzip, deflate, br")],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(header(&h, "content-encoding"), "gzip");
        assert_eq!(header(&h, "vary"), "Accept-Encoding");
        assert_eq!(body, js);
        assert!(sent * 10 < js.len(), "{sent} bytes sent for {}", js.len());
    }
    // Not when refused, and never for small or binary files.
    let (_, h, _, _) = fetch(
        &anon,
        Method::GET,
        "/assets/index-Ab12Cd34.js",
        &[("accept-encoding", "gzip;q=0")],
    )
    .await;
    assert!(h.get("content-encoding").is_none());
    for path in ["/assets/index-Ef56Gh78.css", "/assets/logo-99aa.png"] {
        let (_, h, _, _) = fetch(&anon, Method::GET, path, &[("accept-encoding", "gzip")]).await;
        assert!(h.get("content-encoding").is_none(), "{path}");
    }

    // A missing asset is a JSON 404, never index.html (a browser would run HTML as a script).
    for path in [
        "/assets/index-gone.js",
        "/assets/..%2F..%2Fetc%2Fpasswd",
        "/assets",
    ] {
        let (s, h, body, _) = fetch(&anon, Method::GET, path, &[]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(&h, "content-type").starts_with("application/json"),
            "{path}"
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v["message"].is_string(), "{path}: {body}");
    }

    // Files at the root of dist: a short cache.
    let (s, h, body, _) = fetch(&anon, Method::GET, "/favicon.svg", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/svg+xml");
    assert_eq!(header(&h, "cache-control"), "public, max-age=3600");
    assert!(body.starts_with("<svg"));
    let _ = std::fs::remove_dir_all(&dist);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_its_json_404s_and_post_login() {
    let dist = fake_dist();
    let px = start_with_web_dir(&dist).await;
    let admin = px.admin();
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/api/dashboards/uid/a/b/c/d"),
        (Method::POST, "/dashboards"),
        (Method::DELETE, "/d/x"),
        (Method::GET, "/metrics/x"),
        (Method::GET, "/logout/x"),
    ] {
        let (s, body) = admin.send(admin.request(method.clone(), path)).await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, &format!("{method} {path}"));
    }
    // GET /login is the page; POST /login still logs in; PUT is 405 JSON.
    let (s, h, body, _) = fetch(&px.anonymous(), Method::GET, "/login", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, INDEX);
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let token = login_token(&px, "admin", "admin").await;
    let (s, me) = by_cookie(&px, "/api/user", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["login"], "admin");
    let (s, body) = admin.send(admin.request(Method::PUT, "/login")).await;
    assert_json_error(s, &body, StatusCode::METHOD_NOT_ALLOWED, "PUT /login");
    // The server's own endpoints are untouched.
    let (s, _, body, _) = fetch(&px.anonymous(), Method::GET, "/livez", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(body, INDEX);
    let (s, _, body, _) = fetch(&px.anonymous(), Method::GET, "/metrics", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("pharos_"), "{}", &body[..body.len().min(200)]);
    let (s, h, _, _) = fetch(&px.anonymous(), Method::GET, "/logout", &[]).await;
    assert_eq!(s, StatusCode::FOUND);
    assert_eq!(header(&h, "location"), "/login");
    let _ = std::fs::remove_dir_all(&dist);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_ui_the_landing_page_says_how_to_build_it() {
    let empty = scratch_dir("pharos-web-empty");
    let px = start_with_web_dir(&empty).await;
    let anon = px.anonymous();
    let (s, h, body, _) = fetch(&anon, Method::GET, "/", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("text/html"));
    assert!(body.contains("/api/health"), "{body}");
    assert!(body.contains("scripts/build-web"), "{body}");
    let (s, _, body, _) = fetch(&anon, Method::GET, "/d/pharos-demo", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("scripts/build-web"), "{body}");
    let (s, body) = anon.get("/assets/index-x.js").await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "GET /assets/index-x.js");
    let (s, body) = anon.get("/api/nope").await;
    assert_json_error(s, &body, StatusCode::NOT_FOUND, "GET /api/nope");
    // The API is unaffected.
    let (s, health) = anon.get("/api/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(health["database"], "ok");
    let _ = std::fs::remove_dir_all(&empty);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_dir_that_is_not_a_directory_stops_start_up() {
    let missing = scratch_dir("pharos-web-missing").join("nope");
    let err = match Pharos::try_start(
        Database::fresh(Backend::Sqlite),
        Options::default().env("PHAROS_SERVER_WEB_DIR", missing.to_str().unwrap()),
    )
    .await
    {
        Ok(_) => panic!("pharos started with a missing web_dir"),
        Err(e) => e,
    };
    assert!(err.contains("server.web_dir"), "{err}");
}

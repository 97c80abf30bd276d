//! Bad input never gets a 500, a panic or a non-JSON error: oversized and malformed bodies, unknown
//! routes and methods, garbage in paths and query strings, bad settings at start-up. Also the
//! operational endpoints: `/metrics`, `/livez`, `/readyz`.

use std::time::Duration;

use pharos_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn basic_admin() -> String {
    // base64("admin:admin")
    "Basic YWRtaW46YWRtaW4=".to_string()
}

/// Sends a hand-written HTTP/1.1 request and returns the status and the (de-chunked) body.
async fn raw_http(url: &str, request: &[u8]) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer (and close) before reading all of an oversized body.
    let _ = stream.write_all(request).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n.min(after.len())]);
            rest = after.get(n + 2..).unwrap_or("");
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

/// A syntactically valid dashboard save of about `bytes` bytes.
fn big_dashboard(title: &str, bytes: usize) -> Vec<u8> {
    let filler = "x".repeat(bytes);
    serde_json::to_vec(&json!({"dashboard": {"title": title, "description": filler}})).unwrap()
}

async fn assert_alive(px: &Pharos) {
    let (s, health) = px.anonymous().get("/api/health").await;
    assert_eq!(s, StatusCode::OK, "{health}");
    assert_eq!(health["database"], "ok");
    let pid = px.pid().expect("process running");
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pharos exited"
    );
    let logs = px.logs().join("\n");
    assert!(!logs.contains("panicked"), "a handler panicked:\n{logs}");
}

backend_matrix!(oversized_bodies_get_413_json, |backend| async move {
    let px = Pharos::start_with(
        Database::fresh(backend),
        Options::default().env("PHAROS_SERVER_MAX_BODY_BYTES", "2048"),
    )
    .await;
    let admin = px.admin();
    // Within the limit: fine.
    let small = big_dashboard("Big small", 1000);
    assert!(small.len() < 2048);
    let (s, body) = admin
        .post_raw("/api/dashboards/db", small, "application/json")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // Over it, with a Content-Length.
    for path in [
        "/api/dashboards/db",
        "/api/folders",
        "/api/admin/users",
        "/api/serviceaccounts",
        "/login",
    ] {
        let (s, body) = admin
            .post_raw(
                path,
                big_dashboard("Big too large", 8 * 1024),
                "application/json",
            )
            .await;
        assert_json_error(s, &body, StatusCode::PAYLOAD_TOO_LARGE, path);
    }

    // Over it, chunked (no Content-Length): the limit holds while streaming.
    let payload = big_dashboard("Big chunked too large", 16 * 1024);
    let mut req = format!(
        "POST /api/dashboards/db HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        px.url.trim_start_matches("http://"),
        basic_admin()
    )
    .into_bytes();
    for chunk in payload.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (status, body) = raw_http(&px.url, &req).await;
    let body = json_of(&body);
    assert_json_error(
        StatusCode::from_u16(status).unwrap(),
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "chunked",
    );

    // A small chunked body is still accepted.
    let payload = big_dashboard("Big chunked small", 100);
    let mut req = format!(
        "POST /api/dashboards/db HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        px.url.trim_start_matches("http://"),
        basic_admin()
    )
    .into_bytes();
    req.extend_from_slice(format!("{:x}\r\n", payload.len()).as_bytes());
    req.extend_from_slice(&payload);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, body) = raw_http(&px.url, &req).await;
    assert_eq!(status, 200, "{body}");

    // Nothing half-written: only the two accepted saves exist.
    let (_, hits) = admin.get("/api/search?query=Big").await;
    let mut titles: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["title"].as_str())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Big chunked small", "Big small"], "{hits}");
    assert_alive(&px).await;
});

backend_matrix!(malformed_and_mistyped_json_gets_400, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let malformed: Vec<(&str, &[u8])> = vec![
        ("/api/dashboards/db", b"{not json"),
        ("/api/dashboards/db", b"{\"dashboard\": {\"title\": \"x\"}"),
        ("/api/dashboards/db", b""),
        ("/api/dashboards/db", b"   "),
        ("/api/dashboards/db", b"\xff\xfe\x00garbage"),
        ("/api/folders", b"[1, 2"),
        ("/api/admin/users", b"{'login': 'single-quoted'}"),
        ("/api/serviceaccounts", b"nul"),
        ("/login", b"user=admin&password=admin"),
        ("/api/dashboards/import", b"{\"dashboard\": }"),
    ];
    for (path, body) in malformed {
        let (s, resp) = admin
            .post_raw(path, body.to_vec(), "application/json")
            .await;
        assert_json_error(
            s,
            &resp,
            StatusCode::BAD_REQUEST,
            &format!("{path} {:?}", String::from_utf8_lossy(body)),
        );
    }

    let mistyped: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/api/folders", json!({"title": 5})),
        (Method::POST, "/api/folders", json!(["title"])),
        (Method::POST, "/api/folders", json!(null)),
        (
            Method::POST,
            "/api/dashboards/db",
            json!({"dashboard": "a string"}),
        ),
        (
            Method::POST,
            "/api/dashboards/db",
            json!({"dashboard": [1, 2]}),
        ),
        (
            Method::POST,
            "/api/dashboards/db",
            json!({"dashboard": {"title": "t"}, "overwrite": "yes"}),
        ),
        (
            Method::POST,
            "/api/admin/users",
            json!({"login": ["x"], "password": 1}),
        ),
        (Method::POST, "/api/admin/users", json!("admin")),
        (Method::POST, "/login", json!({"user": 1, "password": true})),
        (Method::POST, "/login", json!({"user": "admin"})),
        (Method::PATCH, "/api/org/users/1", json!({"role": 7})),
        (Method::PATCH, "/api/org/users/1", json!({})),
        (
            Method::POST,
            "/api/serviceaccounts",
            json!({"name": {"nested": true}}),
        ),
        (
            Method::POST,
            "/api/serviceaccounts",
            json!({"name": "ok", "isDisabled": "no"}),
        ),
        (
            Method::POST,
            "/api/auth/keys",
            json!({"name": "k", "secondsToLive": "soon"}),
        ),
        (
            Method::PUT,
            "/api/user/password",
            json!({"oldPassword": 1, "newPassword": 2}),
        ),
        (Method::PUT, "/api/user", json!({"name": 3})),
        (
            Method::PUT,
            "/api/admin/users/1/permissions",
            json!({"isGrafanaAdmin": "true"}),
        ),
    ];
    for (method, path, body) in mistyped {
        let (s, resp) = admin
            .send(admin.request(method.clone(), path).json(&body))
            .await;
        assert_json_error(
            s,
            &resp,
            StatusCode::BAD_REQUEST,
            &format!("{method} {path} {body}"),
        );
    }
    // NUL characters, which PostgreSQL text cannot hold, are refused alike on both databases.
    let with_nul: Vec<(&str, &[u8])> = vec![
        ("/api/folders", br#"{"title": "a\u0000b"}"#),
        (
            "/api/dashboards/db",
            br#"{"dashboard": {"title": "t\u0000"}}"#,
        ),
        (
            "/api/dashboards/db",
            br#"{"dashboard": {"title": "ok", "tags": ["\u0000"]}}"#,
        ),
        (
            "/api/admin/users",
            br#"{"login": "nul\u0000", "password": "password1"}"#,
        ),
        ("/api/serviceaccounts", br#"{"name": "\u0000"}"#),
        ("/login", br#"{"user": "ad\u0000min", "password": "admin"}"#),
    ];
    for (path, body) in with_nul {
        let (s, resp) = admin
            .post_raw(path, body.to_vec(), "application/json")
            .await;
        assert_json_error(
            s,
            &resp,
            StatusCode::BAD_REQUEST,
            &format!("{path} {:?}", String::from_utf8_lossy(body)),
        );
    }
    let (s, body) = px.basic("ad\0min", "admin").get("/api/user").await;
    assert_json_error(s, &body, StatusCode::UNAUTHORIZED, "NUL in basic auth");
    // An escaped backslash before `u0000` is ordinary text.
    let (s, body) = admin
        .post_raw(
            "/api/folders",
            br#"{"title": "literal \\u0000"}"#.to_vec(),
            "application/json",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "literal \\u0000");

    // A Content-Type other than JSON is read as JSON, as Grafana does for `curl -d`.
    let (s, body) = admin
        .post_raw(
            "/api/folders",
            br#"{"title": "Form typed"}"#.to_vec(),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The admin's account is unchanged by all of it.
    let (s, me) = admin.get("/api/user").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["isGrafanaAdmin"], true);
    assert_alive(&px).await;
});

backend_matrix!(
    unknown_routes_and_methods_answer_json,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        for (method, path) in [
            (Method::GET, "/api/nope"),
            (Method::POST, "/api/nope"),
            (Method::GET, "/api/dashboards/uid"),
            (Method::GET, "/api/dashboards/uid/a/b/c/d"),
            (Method::DELETE, "/api/serviceaccounts/1/tokens"),
        ] {
            let (s, body) = admin
                .send(admin.request(method.clone(), path).json(&json!({})))
                .await;
            assert!(
                s == StatusCode::NOT_FOUND || s == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {s}"
            );
            assert_json_error(s, &body, s, &format!("{method} {path}"));
        }
        let (s, body) = px.anonymous().get("/api/nope").await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::UNAUTHORIZED,
            "{s}"
        );
        assert!(body["message"].is_string(), "{body}");
        let (s, body) = admin.get("/api/nope").await;
        assert_json_error(s, &body, StatusCode::NOT_FOUND, "GET /api/nope");

        for (method, path) in [
            (Method::DELETE, "/api/health"),
            (Method::PUT, "/api/search"),
            (Method::POST, "/api/user/orgs"),
            (Method::PATCH, "/api/dashboards/db"),
            (Method::PUT, "/login"),
            (Method::POST, "/logout"),
            (Method::POST, "/metrics"),
        ] {
            let resp = admin
                .request(method.clone(), path)
                .send()
                .await
                .expect("request");
            let status = resp.status();
            let allow = resp.headers().get("allow").cloned();
            let body = json_of(&resp.text().await.unwrap_or_default());
            assert_json_error(
                status,
                &body,
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("{method} {path}"),
            );
            assert!(allow.is_some(), "{method} {path}: 405 without Allow");
        }
        assert_alive(&px).await;
    }
);

backend_matrix!(
    garbage_in_paths_and_queries_is_a_4xx_json,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        // Something real to aim near.
        let (s, _) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "Target", "uid": "target"}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let long = "a".repeat(5000);
        let garbage = [
            long.as_str(),
            "%F0%9F%94%A5%C3%BC%C3%B1%C3%AF",
            "ünïcødé-🔥",
            "%00",
            "a%00b",
            "%FF%FE",
            "%C0%AF",
            "..%2F..%2Fetc%2Fpasswd",
            "-1",
            "0",
            "99999999999999999999999",
            "1e3",
            "0x10",
            "null",
            "%20",
            "'%20OR%201=1--",
            "%3Cscript%3E",
            "%25",
        ];
        for g in garbage {
            let cases: Vec<(Method, String)> = vec![
                (Method::GET, format!("/api/dashboards/uid/{g}")),
                (Method::DELETE, format!("/api/dashboards/uid/{g}")),
                (Method::GET, format!("/api/dashboards/uid/{g}/versions")),
                (
                    Method::GET,
                    format!("/api/dashboards/uid/target/versions/{g}"),
                ),
                (Method::POST, format!("/api/dashboards/uid/{g}/restore")),
                (Method::GET, format!("/api/folders/{g}")),
                (Method::DELETE, format!("/api/folders/{g}")),
                (Method::GET, format!("/api/folders/id/{g}")),
                (Method::POST, format!("/api/user/stars/dashboard/uid/{g}")),
                (Method::DELETE, format!("/api/user/stars/dashboard/{g}")),
                (Method::GET, format!("/api/users/{g}")),
                (Method::GET, format!("/api/users/{g}/orgs")),
                (Method::GET, format!("/api/users/lookup?loginOrEmail={g}")),
                (Method::PATCH, format!("/api/org/users/{g}")),
                (Method::DELETE, format!("/api/org/users/{g}")),
                (Method::DELETE, format!("/api/admin/users/{g}")),
                (Method::PUT, format!("/api/admin/users/{g}/password")),
                (Method::GET, format!("/api/serviceaccounts/{g}")),
                (Method::PATCH, format!("/api/serviceaccounts/{g}")),
                (Method::GET, format!("/api/serviceaccounts/{g}/tokens")),
                (Method::DELETE, format!("/api/serviceaccounts/1/tokens/{g}")),
                (Method::DELETE, format!("/api/auth/keys/{g}")),
                (Method::GET, format!("/api/search?query={g}")),
                (Method::GET, format!("/api/search?limit={g}")),
                (Method::GET, format!("/api/search?page={g}&tag={g}")),
                (
                    Method::GET,
                    format!("/api/search?dashboardUIDs={g}&folderUIDs={g}&type={g}"),
                ),
                (Method::GET, format!("/api/search?starred={g}")),
                (Method::GET, format!("/api/users?perpage={g}&page={g}")),
                (
                    Method::GET,
                    format!("/api/users/search?perpage={g}&query={g}"),
                ),
                (
                    Method::GET,
                    format!("/api/serviceaccounts/search?page={g}&query={g}"),
                ),
            ];
            for (method, path) in cases {
                let body = match method {
                    Method::GET | Method::DELETE => None,
                    _ => Some(
                        json!({"role": "Viewer", "password": "password1", "name": g, "version": 1}),
                    ),
                };
                let mut rb = admin.request(method.clone(), &path);
                if let Some(body) = body {
                    rb = rb.json(&body);
                }
                let (s, resp) = admin.send(rb).await;
                let what = format!("{method} {}", &path[..path.len().min(120)]);
                assert!(!s.is_server_error(), "{what}: {s} {resp}");
                if !s.is_success() {
                    assert!(s.is_client_error(), "{what}: {s} {resp}");
                    assert!(
                        resp["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{what}: {s} error body must be JSON with a message: {resp}"
                    );
                }
            }
        }
        // Nothing got deleted by any of it, and nobody became a server admin.
        assert_eq!(
            admin.get("/api/dashboards/uid/target").await.0,
            StatusCode::OK
        );
        let (_, users) = admin.get("/api/users").await;
        assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
        assert_alive(&px).await;
    }
);

/// Runs `pharos serve` with the given extra environment and expects it to refuse to start.
async fn refused_start(env: &[(&str, &str)]) -> (Option<i32>, Vec<String>) {
    let dir = scratch_dir("pharos-badcfg");
    let mut cmd = tokio::process::Command::new(pharos_bin());
    cmd.arg("serve")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PHAROS_SERVER_LISTEN", "127.0.0.1:0")
        .env(
            "PHAROS_DATABASE_URL",
            format!("sqlite://{}/pharos.db", dir.display()),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("pharos with {env:?} kept running"))
        .expect("running pharos");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!out.status.success(), "pharos with {env:?} started");
    (out.status.code(), stderr)
}

/// Environment variables to start with.
type Settings<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_stop_start_up_with_one_clear_line() {
    let cases: Vec<(Settings, &[&str])> = vec![
        (
            vec![("PHAROS_DATABASE_MAX_CONNECTIONS", "abc")],
            &[
                "PHAROS_DATABASE_MAX_CONNECTIONS",
                "database.max_connections",
            ],
        ),
        (
            vec![("PHAROS_DATABASE_MAX_CONNECTIONS", "0")],
            &[
                "PHAROS_DATABASE_MAX_CONNECTIONS",
                "database.max_connections",
            ],
        ),
        (
            vec![("PHAROS_SERVER_LISTEN", "nope")],
            &["PHAROS_SERVER_LISTEN", "server.listen"],
        ),
        (
            vec![("PHAROS_SERVER_LISTEN", "127.0.0.1:99999")],
            &["PHAROS_SERVER_LISTEN", "server.listen"],
        ),
        (
            vec![("PHAROS_SERVER_ROOT_URL", "ftp://example.com/")],
            &["PHAROS_SERVER_ROOT_URL", "server.root_url"],
        ),
        (
            vec![("PHAROS_DATABASE_URL", "mysql://localhost/x")],
            &["PHAROS_DATABASE_URL", "database.url"],
        ),
        (
            vec![("PHAROS_AUTH_SESSION_MAX_LIFETIME", "forever")],
            &[
                "PHAROS_AUTH_SESSION_MAX_LIFETIME",
                "auth.session_max_lifetime",
            ],
        ),
        (
            vec![("PHAROS_SECURITY_LOGIN_MAX_FAILURES", "many")],
            &[
                "PHAROS_SECURITY_LOGIN_MAX_FAILURES",
                "security.login_max_failures",
            ],
        ),
        (
            vec![("PHAROS_SERVER_TRUST_FORWARDED_FOR", "perhaps")],
            &[
                "PHAROS_SERVER_TRUST_FORWARDED_FOR",
                "server.trust_forwarded_for",
            ],
        ),
        (
            vec![("PHAROS_SERVER_LISTN", "127.0.0.1:0")],
            &["PHAROS_SERVER_LISTN", "listn"],
        ),
        (
            vec![("PHAROS_LOG_FORMAT", "xml")],
            &["PHAROS_LOG_FORMAT", "log.format"],
        ),
    ];
    for (env, names) in cases {
        let (code, stderr) = refused_start(&env).await;
        assert!(code.is_some_and(|c| c != 0), "{env:?}: exit {code:?}");
        assert_eq!(
            stderr.len(),
            1,
            "{env:?}: one line on stderr, got {stderr:#?}"
        );
        let line = &stderr[0];
        assert!(
            names.iter().any(|n| line.contains(n)),
            "{env:?}: the line must name the setting: {line}"
        );
        assert!(line.len() < 300, "{env:?}: not one clear line: {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_stops_start_up_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = refused_start(&[
        ("PHAROS_SERVER_LISTEN", addr.as_str()),
        ("PHAROS_LOG_FORMAT", "json"),
    ])
    .await;
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}");
    let last = stderr.last().expect("a message");
    assert!(
        last.contains("server.listen") && last.contains(&addr),
        "the last line names the setting and the address: {stderr:#?}"
    );
}

backend_matrix!(metrics_use_route_templates, |backend| async move {
    let px = Pharos::start(backend).await;
    let admin = px.admin();
    let secret_uid = "uid-that-must-not-leak-7f3a";
    let (s, _) = admin
        .post(
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Metered", "uid": secret_uid}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        admin
            .get(&format!("/api/dashboards/uid/{secret_uid}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        admin
            .get("/api/dashboards/uid/another-raw-uid-9c2e")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get("/api/no-such-route-5d1b").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(px.anonymous().get("/api/health").await.0, StatusCode::OK);

    let resp = px
        .anonymous()
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain")
            || content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let has = |name: &str, labels: &[&str]| {
        lines
            .iter()
            .any(|l| l.starts_with(name) && labels.iter().all(|lab| l.contains(lab)))
    };
    assert!(
        has(
            "pharos_http_requests_total{",
            &["route=\"/api/health\"", "status=\"200\""]
        ),
        "{text}"
    );
    assert!(
        has(
            "pharos_http_requests_total{",
            &["route=\"/api/dashboards/uid/{uid}\"", "status=\"404\""]
        ),
        "{text}"
    );
    assert!(
        has(
            "pharos_http_request_duration_seconds_bucket{",
            &["le=", "route=\"/api/health\""]
        ),
        "{text}"
    );
    assert!(has("pharos_db_pool_connections", &[]), "{text}");
    assert!(has("pharos_build_info", &["version="]), "{text}");
    for raw in [secret_uid, "another-raw-uid-9c2e", "no-such-route-5d1b"] {
        assert!(
            !text.contains(raw),
            "a raw path reached the metrics: {raw}\n{text}"
        );
    }
    // Counters count.
    let count = |text: &str| -> f64 {
        text.lines()
            .find(|l| {
                l.starts_with("pharos_http_requests_total{")
                    && l.contains("route=\"/api/health\"")
                    && l.contains("status=\"200\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let before = count(&text);
    for _ in 0..3 {
        px.anonymous().get("/api/health").await;
    }
    let (_, after) = px.anonymous().get("/metrics").await;
    let after = after.as_str().unwrap_or_default().to_string();
    assert_eq!(count(&after), before + 3.0, "{after}");
});

backend_matrix!(liveness_and_readiness, |backend| async move {
    let px = Pharos::start(backend).await;
    for path in ["/livez", "/readyz", "/api/health"] {
        let (s, body) = px.anonymous().get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
    }
    let (_, health) = px.anonymous().get("/api/health").await;
    assert_eq!(health["database"], "ok");
    assert!(health["version"].is_string());
    assert!(health["commit"].is_string());
});

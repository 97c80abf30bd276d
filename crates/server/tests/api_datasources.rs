//! Grafana's datasource API (`/api/datasources`), secrets at rest, health checks, the datasource
//! proxy, the secret-key check and demo seeding, on SQLite and PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Pharos on a fresh database without demo data (each test states what it creates).
async fn start(backend: Backend) -> Pharos {
    Pharos::start_with(Database::fresh(backend), no_demo()).await
}

fn no_demo() -> Options {
    Options::default().env("PHAROS_SERVER_DEMO_DATA", "false")
}

fn with_demo() -> Options {
    Options::default().env("PHAROS_SERVER_DEMO_DATA", "true")
}

async fn create_ok(client: &Client, body: Value) -> Value {
    let (status, resp) = client.post("/api/datasources", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "creating {body}: {resp}");
    resp
}

/// A port on 127.0.0.1 with nothing listening.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The raw stored `secure_json_data` texts and every byte of the database files.
fn raw_database_text(px: &Pharos) -> String {
    match px.db.backend {
        Backend::Postgres => psql_at(
            &px.db.url,
            "SELECT string_agg(secure_json_data || ' ' || json_data, ' ') FROM datasources",
        ),
        Backend::Sqlite => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(px.db.dir().unwrap()).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    all.extend(std::fs::read(&path).unwrap());
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
    }
}

// ---------------------------------------------------------------- CRUD

backend_matrix!(crud_round_trip_in_grafanas_shapes, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();

    let (status, list) = admin.get("/api/datasources").await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));

    let created = create_ok(
        &admin,
        json!({
            "name": "Prom",
            "type": "prometheus",
            "uid": "prom-1",
            "access": "proxy",
            "url": "http://127.0.0.1:9090",
            "basicAuth": true,
            "basicAuthUser": "scraper",
            "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
            "secureJsonData": {"basicAuthPassword": "pw-one"}
        }),
    )
    .await;
    assert_eq!(created["message"], "Datasource added");
    assert_eq!(created["name"], "Prom");
    let id = created["id"].as_i64().unwrap();
    let ds = &created["datasource"];
    let keys: Vec<&str> = ds.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "uid",
            "orgId",
            "name",
            "type",
            "typeLogoUrl",
            "access",
            "url",
            "user",
            "database",
            "basicAuth",
            "basicAuthUser",
            "withCredentials",
            "isDefault",
            "jsonData",
            "secureJsonFields",
            "version",
            "readOnly"
        ]
    );
    assert_eq!(ds["id"], id);
    assert_eq!(ds["uid"], "prom-1");
    assert_eq!(ds["orgId"], 1);
    assert_eq!(ds["type"], "prometheus");
    assert_eq!(ds["basicAuthUser"], "scraper");
    assert_eq!(
        ds["jsonData"],
        json!({"httpMethod": "POST", "timeInterval": "15s"})
    );
    assert_eq!(ds["secureJsonFields"], json!({"basicAuthPassword": true}));
    assert_eq!(ds["version"], 1);
    assert_eq!(ds["readOnly"], false);
    // The first datasource of an org becomes its default.
    assert_eq!(ds["isDefault"], true);

    // The same object by uid, name and legacy id.
    for path in [
        "/api/datasources/uid/prom-1".to_string(),
        "/api/datasources/name/Prom".to_string(),
        format!("/api/datasources/{id}"),
    ] {
        let (status, got) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {got}");
        assert_eq!(&got, ds, "{path}");
    }
    let (status, got) = admin.get("/api/datasources/id/Prom").await;
    assert_eq!((status, got), (StatusCode::OK, json!({"id": id})));

    // A second one, generated uid; made the default, which the first then is not.
    let second = create_ok(
        &admin,
        json!({"name": "influx", "type": "influxdb", "url": "http://127.0.0.1:8086",
               "database": "telegraf", "user": "reader", "isDefault": true,
               "secureJsonData": {"password": "pw-two"}}),
    )
    .await;
    let uid2 = second["datasource"]["uid"].as_str().unwrap().to_string();
    assert!(is_valid_uid(&uid2), "{uid2}");
    assert_eq!(second["datasource"]["isDefault"], true);
    let (_, first) = admin.get("/api/datasources/uid/prom-1").await;
    assert_eq!(first["isDefault"], false);
    assert_eq!(
        first["version"], 1,
        "losing the default flag keeps the version"
    );

    // The list: by name, case-insensitively, in the list item shape.
    let (_, list) = admin.get("/api/datasources").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "influx");
    assert_eq!(list[1]["name"], "Prom");
    let keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "uid",
            "orgId",
            "name",
            "type",
            "typeName",
            "typeLogoUrl",
            "access",
            "url",
            "user",
            "database",
            "basicAuth",
            "isDefault",
            "jsonData",
            "readOnly"
        ]
    );
    assert_eq!(list[0]["typeName"], "InfluxDB");
    assert_eq!(list[0]["database"], "telegraf");
    assert_eq!(list[1]["typeName"], "Prometheus");

    // PUT by uid: a full replacement of the settings, a new uid, version bumped.
    let mut put = first.clone();
    put["name"] = json!("Prometheus main");
    put["uid"] = json!("prom-main");
    put["url"] = json!("http://127.0.0.1:9091/prefix");
    put["jsonData"] = json!({"httpMethod": "GET"});
    let (status, updated) = admin.put("/api/datasources/uid/prom-1", put).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["message"], "Datasource updated");
    assert_eq!(updated["id"], id);
    assert_eq!(updated["name"], "Prometheus main");
    let u = &updated["datasource"];
    assert_eq!(u["uid"], "prom-main");
    assert_eq!(u["url"], "http://127.0.0.1:9091/prefix");
    assert_eq!(u["jsonData"], json!({"httpMethod": "GET"}));
    assert_eq!(u["version"], 2);
    assert_eq!(u["secureJsonFields"], json!({"basicAuthPassword": true}));
    let (status, _) = admin.get("/api/datasources/uid/prom-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // PUT by legacy id, without a version (no check) and without a type (kept).
    let (status, updated) = admin
        .put(
            &format!("/api/datasources/{id}"),
            json!({"name": "Prometheus main", "url": "http://127.0.0.1:9092", "isDefault": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["datasource"]["type"], "prometheus");
    assert_eq!(updated["datasource"]["uid"], "prom-main");
    assert_eq!(updated["datasource"]["isDefault"], true);
    assert_eq!(updated["datasource"]["version"], 3);
    let (_, other) = admin.get(&format!("/api/datasources/uid/{uid2}")).await;
    assert_eq!(other["isDefault"], false, "one default per org");

    // Deletes: by name and uid with the id, by legacy id without.
    let third = create_ok(&admin, json!({"name": "td", "type": "testdata"})).await;
    let third_id = third["id"].as_i64().unwrap();
    let (status, body) = admin.delete("/api/datasources/name/influx").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Data source deleted");
    assert_eq!(body["id"], second["id"]);
    let (status, body) = admin.delete("/api/datasources/uid/prom-main").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"message": "Data source deleted", "id": id}));
    let (status, body) = admin.delete(&format!("/api/datasources/{third_id}")).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Data source deleted"}))
    );

    // Unknown ones: 404 "Data source not found" on every route.
    for path in [
        "/api/datasources/uid/prom-main",
        "/api/datasources/name/influx",
        "/api/datasources/12345",
        "/api/datasources/id/influx",
        "/api/datasources/uid/nope/health",
        "/api/datasources/proxy/uid/nope/api/v1/query",
    ] {
        let (status, body) = admin.get(path).await;
        assert_json_error(status, &body, StatusCode::NOT_FOUND, path);
        assert_eq!(body["message"], "Data source not found", "{path}");
    }
    for path in [
        "/api/datasources/uid/prom-main",
        "/api/datasources/name/influx",
    ] {
        let (status, body) = admin.delete(path).await;
        assert_json_error(status, &body, StatusCode::NOT_FOUND, path);
    }
    for path in ["/api/datasources/uid/prom-main", "/api/datasources/12345"] {
        let (status, body) = admin
            .put(path, json!({"name": "x", "type": "prometheus"}))
            .await;
        assert_json_error(status, &body, StatusCode::NOT_FOUND, path);
    }
    let (_, list) = admin.get("/api/datasources").await;
    assert_eq!(list, json!([]));
});

// ---------------------------------------------------------------- secrets

backend_matrix!(
    secure_json_data_is_encrypted_and_never_returned,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let secret = "hunter2-plaintext-secret";
        let created = create_ok(
        &admin,
        json!({"name": "Secret prom", "type": "prometheus", "uid": "sp",
               "url": "http://127.0.0.1:9090", "basicAuth": true, "basicAuthUser": "u",
               "jsonData": {"httpHeaderName1": "X-Scope-OrgID"},
               "secureJsonData": {"basicAuthPassword": secret, "httpHeaderValue1": "tenant-secret-7"},
               "password": "legacy-top-level-secret"}),
    )
    .await;
        let text = created.to_string();
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("tenant-secret-7"), "{text}");
        assert!(!text.contains("legacy-top-level-secret"), "{text}");
        assert_eq!(
            created["datasource"]["secureJsonFields"],
            json!({"basicAuthPassword": true, "httpHeaderValue1": true, "password": true})
        );

        // Nowhere in any answer.
        for path in [
            "/api/datasources",
            "/api/datasources/uid/sp",
            "/api/datasources/name/Secret%20prom",
            "/api/frontend/settings",
        ] {
            let (status, body) = admin.get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let text = body.to_string();
            for plain in [secret, "tenant-secret-7", "legacy-top-level-secret"] {
                assert!(!text.contains(plain), "{path} leaks {plain}: {text}");
            }
        }

        // At rest: only ciphertext ("v1:..." values), never the plaintext.
        let raw = raw_database_text(&px);
        assert!(raw.contains("v1:"), "no encrypted values found");
        for plain in [secret, "tenant-secret-7", "legacy-top-level-secret"] {
            assert!(
                !raw.contains(plain),
                "the database holds {plain} in plaintext"
            );
        }

        // PUT without secureJsonData keeps every secret; a field sent replaces; an empty one clears.
        let (_, current) = admin.get("/api/datasources/uid/sp").await;
        let mut put = current.clone();
        put["url"] = json!("http://127.0.0.1:9091");
        let (status, updated) = admin.put("/api/datasources/uid/sp", put.clone()).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            updated["datasource"]["secureJsonFields"],
            json!({"basicAuthPassword": true, "httpHeaderValue1": true, "password": true})
        );
        put["version"] = updated["datasource"]["version"].clone();
        put["secureJsonData"] = json!({"password": "", "httpHeaderValue1": "tenant-8"});
        let (status, updated) = admin.put("/api/datasources/uid/sp", put).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            updated["datasource"]["secureJsonFields"],
            json!({"basicAuthPassword": true, "httpHeaderValue1": true})
        );
        let raw = raw_database_text(&px);
        assert!(!raw.contains("tenant-8"));
    }
);

// ---------------------------------------------------------------- rules and bad input

backend_matrix!(name_and_uid_conflicts_are_409, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    create_ok(&admin, json!({"name": "A", "uid": "a", "type": "testdata"})).await;
    let b = create_ok(&admin, json!({"name": "B", "uid": "b", "type": "testdata"})).await;

    let cases = [
        (json!({"name": "A", "type": "testdata"}), "name"),
        (
            json!({"name": "A", "uid": "fresh", "type": "testdata"}),
            "name",
        ),
        (json!({"name": "C", "uid": "a", "type": "testdata"}), "uid"),
    ];
    for (body, what) in cases {
        let (status, resp) = admin.post("/api/datasources", body.clone()).await;
        assert_error(status, &resp, StatusCode::CONFLICT);
        assert_eq!(
            resp["message"],
            format!("data source with the same {what} already exists"),
            "{body}"
        );
    }
    // On update too: renaming B to A, or giving it A's uid.
    let mut put = b["datasource"].clone();
    put["name"] = json!("A");
    let (status, resp) = admin.put("/api/datasources/uid/b", put).await;
    assert_error(status, &resp, StatusCode::CONFLICT);
    assert_eq!(
        resp["message"],
        "data source with the same name already exists"
    );
    let mut put = b["datasource"].clone();
    put["uid"] = json!("a");
    let (status, resp) = admin.put("/api/datasources/uid/b", put).await;
    assert_error(status, &resp, StatusCode::CONFLICT);
    assert_eq!(
        resp["message"],
        "data source with the same uid already exists"
    );
    // Saving B under its own name and uid is no conflict.
    let (status, resp) = admin
        .put("/api/datasources/uid/b", b["datasource"].clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");

    let (_, list) = admin.get("/api/datasources").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
});

backend_matrix!(a_stale_version_is_409, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    let created = create_ok(
        &admin,
        json!({"name": "V", "uid": "v", "type": "prometheus", "url": "http://127.0.0.1:9090"}),
    )
    .await;
    let read = created["datasource"].clone();
    assert_eq!(read["version"], 1);
    // Alice saves what she read: fine, version 2.
    let mut alice = read.clone();
    alice["url"] = json!("http://127.0.0.1:9091");
    let (status, body) = admin.put("/api/datasources/uid/v", alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["datasource"]["version"], 2);
    // Bob saves the same old read: stale.
    let mut bob = read.clone();
    bob["url"] = json!("http://127.0.0.1:9092");
    let (status, body) = admin.put("/api/datasources/uid/v", bob).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("already been updated"),
        "{body}"
    );
    let (_, now) = admin.get("/api/datasources/uid/v").await;
    assert_eq!(now["url"], "http://127.0.0.1:9091");
    // A version ahead of the stored one is accepted (Grafana's rule, for provisioning files).
    let mut ahead = now.clone();
    ahead["version"] = json!(10);
    let (status, body) = admin.put("/api/datasources/uid/v", ahead).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["datasource"]["version"], 11);
});

backend_matrix!(roles_guard_every_route, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    create_ok(&admin, json!({"name": "T", "uid": "t", "type": "testdata"})).await;
    let viewer = px.user_with_role("viewer1", "Viewer").await;
    let editor = px.user_with_role("editor1", "Editor").await;

    for client in [&viewer, &editor] {
        for path in [
            "/api/datasources",
            "/api/datasources/uid/t",
            "/api/datasources/name/T",
            "/api/datasources/1",
        ] {
            let (status, body) = client.get(path).await;
            assert_error(status, &body, StatusCode::FORBIDDEN);
        }
        let (status, body) = client
            .post("/api/datasources", json!({"name": "X", "type": "testdata"}))
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        let (status, body) = client
            .put(
                "/api/datasources/uid/t",
                json!({"name": "X", "type": "testdata"}),
            )
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        for path in [
            "/api/datasources/uid/t",
            "/api/datasources/name/T",
            "/api/datasources/1",
        ] {
            let (status, body) = client.delete(path).await;
            assert_error(status, &body, StatusCode::FORBIDDEN);
        }
        // What viewers may do: look up an id, test health.
        let (status, body) = client.get("/api/datasources/id/T").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = client.get("/api/datasources/uid/t/health").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = px.anonymous().get("/api/datasources/id/T").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    let (_, list) = admin.get("/api/datasources").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing was written");
});

backend_matrix!(bad_input_is_400, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    let (status, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "E", "type": "elasticsearch", "url": "http://127.0.0.1:9200"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap();
    for kind in [
        "elasticsearch",
        "prometheus",
        "influxdb",
        "grafana-testdata-datasource",
    ] {
        assert!(message.contains(kind), "{message}");
    }
    let cases = [
        json!({"type": "prometheus", "url": "http://127.0.0.1:9090"}),
        json!({"name": "  ", "type": "prometheus"}),
        json!({"name": "no type"}),
        json!({"name": "ftp", "type": "prometheus", "url": "ftp://127.0.0.1/"}),
        json!({"name": "relative", "type": "influxdb", "url": "localhost:8086"}),
        json!({"name": "bad uid", "type": "testdata", "uid": "a b"}),
        json!({"name": "long uid", "type": "testdata", "uid": "x".repeat(41)}),
        json!({"name": "arr", "type": "testdata", "jsonData": [1, 2]}),
        json!({"name": "acc", "type": "testdata", "access": "sideways"}),
        json!({"name": "sec", "type": "testdata", "secureJsonData": {"password": 7}}),
        json!({"name": "x".repeat(191), "type": "testdata"}),
        json!({"name": 5, "type": "testdata"}),
    ];
    for body in cases {
        let (status, resp) = admin.post("/api/datasources", body.clone()).await;
        assert_json_error(status, &resp, StatusCode::BAD_REQUEST, &body.to_string());
    }
    let (status, body) = admin
        .post_raw(
            "/api/datasources",
            b"{\"name\":".to_vec(),
            "application/json",
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = admin.get("/api/datasources/not-a-number").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    // An empty URL is accepted (the UI creates first and fills the URL in after).
    create_ok(&admin, json!({"name": "later", "type": "prometheus"})).await;
    let (_, list) = admin.get("/api/datasources").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
});

// ---------------------------------------------------------------- health

backend_matrix!(health_says_ok_or_error, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    let td = create_ok(
        &admin,
        json!({"name": "TD", "uid": "td", "type": "grafana-testdata-datasource"}),
    )
    .await;
    let (status, body) = admin.get("/api/datasources/uid/td/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "OK");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let id = td["id"].as_i64().unwrap();
    let (status, body) = admin.get(&format!("/api/datasources/{id}/health")).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("OK")));

    let port = closed_port();
    create_ok(
        &admin,
        json!({"name": "Dead prom", "uid": "dead", "type": "prometheus",
               "url": format!("http://127.0.0.1:{port}")}),
    )
    .await;
    let (status, body) = admin.get("/api/datasources/uid/dead/health").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], "ERROR");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&port.to_string()), "{message}");

    // Pointing it at a live source is seen at once (the resolver's cache follows writes).
    let upstream = FakeUpstream::start().await;
    let (_, current) = admin.get("/api/datasources/uid/dead").await;
    let mut put = current.clone();
    put["url"] = json!(upstream.url());
    let (status, body) = admin.put("/api/datasources/uid/dead", put).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin.get("/api/datasources/uid/dead/health").await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("OK")),
        "{body}"
    );
});

// ---------------------------------------------------------------- proxy

/// A stand-in upstream that records each request it gets (request line, headers, body) and
/// answers a fixed Prometheus-shaped JSON. It checks what Pharos *sends*, which is the point.
struct FakeUpstream {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

const FAKE_ANSWER: &str =
    r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}}"#;

impl FakeUpstream {
    async fn start() -> FakeUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Read the head, then as much body as Content-Length says.
                    loop {
                        let Ok(n) = socket.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            break;
                        }
                        data.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&data).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let length = text[..end]
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if data.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&data).to_string());
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Set-Cookie: upstream=1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                        FAKE_ANSWER.len(),
                        FAKE_ANSWER
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FakeUpstream {
            port,
            requests,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header_of<'a>(request: &'a str, name: &str) -> Vec<&'a str> {
    request
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

backend_matrix!(
    proxy_forwards_allowed_reads_with_injected_auth,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let upstream = FakeUpstream::start().await;
        let created = create_ok(
            &admin,
            json!({"name": "Proxied", "uid": "pp", "type": "prometheus",
               "url": format!("{}/prefix", upstream.url()),
               "basicAuth": true, "basicAuthUser": "scraper",
               "secureJsonData": {"basicAuthPassword": "s3cret"}}),
        )
        .await;
        let id = created["id"].as_i64().unwrap();
        let viewer = px.user_with_role("watcher", "Viewer").await;

        // GET with a query string, from a viewer who sends credentials and a cookie of its own.
        let request = viewer
        .request(
            reqwest::Method::GET,
            "/api/datasources/proxy/uid/pp/api/v1/query?query=up%7Bjob%3D%22x%22%7D&time=1700000000",
        )
        .header("Cookie", "pharos_session=abc; other=1")
        .header("X-Custom", "client-only");
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        assert!(response.headers().get("set-cookie").is_none());
        assert_eq!(response.text().await.unwrap(), FAKE_ANSWER);

        let seen = upstream.requests();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let first = &seen[0];
        assert!(
            first.starts_with(
                "GET /prefix/api/v1/query?query=up%7Bjob%3D%22x%22%7D&time=1700000000 HTTP/1.1\r\n"
            ),
            "{first}"
        );
        let expected_auth = format!("Basic {}", base64_encode(b"scraper:s3cret"));
        assert_eq!(
            header_of(first, "authorization"),
            vec![expected_auth.as_str()],
            "{first}"
        );
        assert!(header_of(first, "cookie").is_empty(), "{first}");
        assert!(header_of(first, "x-custom").is_empty(), "{first}");

        // POST with a form body, through the legacy id route.
        let response = viewer
            .request(
                reqwest::Method::POST,
                &format!("/api/datasources/proxy/{id}/api/v1/query_range"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body("query=rate(x%5B5m%5D)&start=1&end=2&step=15")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let seen = upstream.requests();
        assert_eq!(seen.len(), 2);
        let second = &seen[1];
        assert!(
            second.starts_with("POST /prefix/api/v1/query_range HTTP/1.1\r\n"),
            "{second}"
        );
        assert!(
            second.ends_with("query=rate(x%5B5m%5D)&start=1&end=2&step=15"),
            "{second}"
        );
        assert_eq!(
            header_of(second, "authorization"),
            vec![expected_auth.as_str()]
        );
        assert_eq!(
            header_of(second, "content-type"),
            vec!["application/x-www-form-urlencoded"]
        );

        // Label values and build info are reads too.
        for path in [
            "api/v1/label/job/values",
            "api/v1/status/buildinfo",
            "api/v1/labels",
        ] {
            let (status, body) = viewer
                .get(&format!("/api/datasources/proxy/uid/pp/{path}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
        }
        let before = upstream.requests().len();

        // Anything else is refused before it reaches the source.
        for path in [
            "api/v1/admin/tsdb/delete_series?match[]=up",
            "api/v1/admin/tsdb/snapshot",
            "-/quit",
            "api/v1/label/..%2F..%2Fadmin/values",
            "api/v1/status/config",
            "federate",
        ] {
            let (status, body) = admin
                .post(&format!("/api/datasources/proxy/uid/pp/{path}"), json!({}))
                .await;
            assert_error(status, &body, StatusCode::FORBIDDEN);
            let (status, body) = admin
                .get(&format!("/api/datasources/proxy/uid/pp/{path}"))
                .await;
            assert_error(status, &body, StatusCode::FORBIDDEN);
        }
        let (status, body) = admin
            .delete("/api/datasources/proxy/uid/pp/api/v1/query")
            .await;
        assert!(status.is_client_error(), "{status}: {body}");
        assert_eq!(
            upstream.requests().len(),
            before,
            "refused requests reached the source"
        );

        // A source that is down: 502 with a clear message.
        let port = closed_port();
        create_ok(
            &admin,
            json!({"name": "Dead", "uid": "dead", "type": "prometheus",
               "url": format!("http://127.0.0.1:{port}")}),
        )
        .await;
        let (status, body) = viewer
            .get("/api/datasources/proxy/uid/dead/api/v1/query?query=1")
            .await;
        assert_error(status, &body, StatusCode::BAD_GATEWAY);
        // TestData has nothing to proxy.
        create_ok(
            &admin,
            json!({"name": "TD", "uid": "td", "type": "testdata"}),
        )
        .await;
        let (status, body) = viewer
            .get("/api/datasources/proxy/uid/td/api/v1/query")
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        let (status, body) = px
            .anonymous()
            .get("/api/datasources/proxy/uid/pp/api/v1/query?query=1")
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
    }
);

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------- frontend settings

backend_matrix!(
    frontend_settings_list_the_orgs_datasources,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let (_, settings) = admin.get("/api/frontend/settings").await;
        assert_eq!(settings["defaultDatasource"], "");
        create_ok(
        &admin,
        json!({"name": "Prom", "uid": "prom", "type": "prometheus", "url": "http://127.0.0.1:9090",
               "jsonData": {"httpMethod": "GET"}}),
    )
    .await;
        create_ok(
            &admin,
            json!({"name": "TD", "uid": "td", "type": "testdata"}),
        )
        .await;
        let viewer = px.user_with_role("v", "Viewer").await;
        let (status, settings) = viewer.get("/api/frontend/settings").await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        assert_eq!(settings["defaultDatasource"], "Prom");
        let prom = &settings["datasources"]["Prom"];
        assert_eq!(prom["uid"], "prom");
        assert_eq!(prom["type"], "prometheus");
        assert_eq!(prom["url"], "/api/datasources/proxy/uid/prom");
        assert_eq!(prom["isDefault"], true);
        assert_eq!(prom["jsonData"], json!({"httpMethod": "GET"}));
        assert_eq!(prom["meta"]["id"], "prometheus");
        assert_eq!(settings["datasources"]["TD"]["isDefault"], false);
        assert_eq!(
            settings["datasources"]["-- Mixed --"]["meta"]["mixed"],
            true
        );
    }
);

// ---------------------------------------------------------------- the secret key

backend_matrix!(
    a_replica_with_another_secret_key_refuses_to_start,
    |backend| async move {
        let db = Database::fresh(backend);
        let key_a = "first-key-shared-by-replicas";
        let key_b = "second-key-that-differs-entirely";
        let px = Pharos::start_with(
            db.clone(),
            no_demo().env("PHAROS_SECURITY_SECRET_KEY", key_a),
        )
        .await;
        create_ok(
        &px.admin(),
        json!({"name": "S", "uid": "s", "type": "testdata", "secureJsonData": {"token": "t0ken"}}),
    )
    .await;
        // A second replica with the same key starts and reads the secret.
        let same = Pharos::start_with(
            db.clone(),
            no_demo().env("PHAROS_SECURITY_SECRET_KEY", key_a),
        )
        .await;
        let (status, body) = same.admin().get("/api/datasources/uid/s/health").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        drop(same);

        let message = "security.secret_key differs from the key this database's secrets were \
                   encrypted with; every replica must use the same key";
        let refused = Pharos::try_start(
            db.clone(),
            no_demo().env("PHAROS_SECURITY_SECRET_KEY", key_b),
        )
        .await;
        let Err(logs) = refused else {
            panic!("a replica with another secret key started");
        };
        assert!(logs.contains(message), "{logs}");

        // The exit status is 2, as for an invalid setting.
        let dir = scratch_dir("pharos-key-mismatch");
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::new(pharos_bin())
                .arg("serve")
                .current_dir(&dir)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("PHAROS_SERVER_LISTEN", "127.0.0.1:0")
                .env("PHAROS_DATABASE_URL", &db.url)
                .env("PHAROS_SECURITY_SECRET_KEY", key_b)
                .env("PHAROS_SERVER_DEMO_DATA", "false")
                .output(),
        )
        .await
        .expect("pharos should exit at once")
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("pharos: {message}")), "{stderr}");

        // The first replica is unaffected.
        let (status, _) = px.admin().get("/api/datasources/uid/s").await;
        assert_eq!(status, StatusCode::OK);
    }
);

// ---------------------------------------------------------------- demo data

async fn demo_state(client: &Client) -> (Vec<Value>, Vec<Value>) {
    let (status, ds) = client.get("/api/datasources").await;
    assert_eq!(status, StatusCode::OK, "{ds}");
    let (status, dashboards) = client.get("/api/search?type=dash-db").await;
    assert_eq!(status, StatusCode::OK, "{dashboards}");
    (
        ds.as_array().unwrap().clone(),
        dashboards.as_array().unwrap().clone(),
    )
}

backend_matrix!(demo_data_is_seeded_once, |backend| async move {
    let db = Database::fresh(backend);
    let px = Pharos::start_with(db.clone(), with_demo()).await;
    let admin = px.admin();
    let (datasources, dashboards) = demo_state(&admin).await;
    assert_eq!(datasources.len(), 1, "{datasources:?}");
    let ds = &datasources[0];
    assert_eq!(ds["uid"], "pharos-testdata");
    assert_eq!(ds["name"], "TestData");
    assert_eq!(ds["type"], "grafana-testdata-datasource");
    assert_eq!(ds["isDefault"], true);
    assert_eq!(dashboards.len(), 1, "{dashboards:?}");
    let uid = dashboards[0]["uid"].as_str().unwrap().to_string();
    let dashboard = get_dashboard(&admin, &uid).await;
    assert!(dashboard["dashboard"]["panels"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
    let (status, body) = admin
        .get("/api/datasources/uid/pharos-testdata/health")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(px);

    // A restart seeds nothing more, and neither does one after the user deleted the demo
    // dashboard (the datasource is still there).
    let px = Pharos::start_with(db.clone(), with_demo()).await;
    let (datasources, dashboards) = demo_state(&px.admin()).await;
    assert_eq!((datasources.len(), dashboards.len()), (1, 1));
    let (status, _) = px
        .admin()
        .delete(&format!("/api/dashboards/uid/{uid}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    drop(px);
    let px = Pharos::start_with(db.clone(), with_demo()).await;
    let (datasources, dashboards) = demo_state(&px.admin()).await;
    assert_eq!((datasources.len(), dashboards.len()), (1, 0));

    // Turned off: nothing on an empty database.
    let empty = start(backend).await;
    let (datasources, dashboards) = demo_state(&empty.admin()).await;
    assert_eq!((datasources.len(), dashboards.len()), (0, 0));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_data_is_seeded_once_when_replicas_start_together_on_postgres() {
    for _ in 0..3 {
        let db = Database::fresh(Backend::Postgres);
        let (a, b, c) = tokio::join!(
            Pharos::start_with(db.clone(), with_demo()),
            Pharos::start_with(db.clone(), with_demo()),
            Pharos::start_with(db.clone(), with_demo()),
        );
        for px in [&a, &b, &c] {
            let (datasources, dashboards) = demo_state(&px.admin()).await;
            assert_eq!(datasources.len(), 1, "{datasources:?}");
            assert_eq!(dashboards.len(), 1, "{dashboards:?}");
        }
        let rows = psql_at(&db.url, "SELECT count(*) FROM datasources");
        assert_eq!(rows, "1");
        let rows = psql_at(&db.url, "SELECT count(*) FROM dashboards");
        assert_eq!(rows, "1");
    }
}

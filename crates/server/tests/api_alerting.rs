//! Grafana's alerting API on SQLite and PostgreSQL: provisioning of alert rules and rule groups,
//! contact points (secrets encrypted and redacted, the receiver test against receivers the test
//! runs), the notification policy tree, silences, and the read-only state endpoints.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pharos_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn start(backend: Backend) -> Pharos {
    Pharos::start_with(Database::fresh(backend), Options::default()).await
}

/// A folder `infra` and a Prometheus datasource `prom` (never queried here).
async fn setup(admin: &Client) {
    let (s, b) = admin
        .post("/api/folders", json!({"uid": "infra", "title": "Infra"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "Prom", "type": "prometheus", "uid": "prom",
                   "url": "http://127.0.0.1:9"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

fn rule(title: &str, group: &str) -> Value {
    json!({
        "title": title,
        "folderUID": "infra",
        "ruleGroup": group,
        "condition": "C",
        "for": "5m",
        "noDataState": "NoData",
        "execErrState": "Error",
        "labels": {"severity": "page"},
        "annotations": {"summary": "{{ $labels.instance }} is at {{ $values.B.Value }}"},
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "prom",
             "model": {"expr": "up", "refId": "A"}},
            {"refId": "B", "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B", "refId": "C",
                       "conditions": [{"evaluator": {"type": "gt", "params": [0]}}]}}
        ]
    })
}

/// A folder `infra` and a TestData datasource `td`, for rules the replica's scheduler evaluates.
async fn setup_testdata(admin: &Client) {
    let (s, b) = admin
        .post("/api/folders", json!({"uid": "infra", "title": "Infra"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "TD", "type": "grafana-testdata-datasource", "uid": "td"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// A rule of group `fast` over TestData's constant 5, firing (with `for: 0s`) when 5 > `above`.
fn testdata_rule(uid: &str, title: &str, above: f64) -> Value {
    let mut r = rule(title, "fast");
    r["uid"] = json!(uid);
    r["for"] = json!("0s");
    r["data"][0]["datasourceUid"] = json!("td");
    r["data"][0]["model"] =
        json!({"refId": "A", "scenarioId": "csv_metric_values", "stringInput": "5,5,5"});
    r["data"][2]["model"]["conditions"][0]["evaluator"]["params"] = json!([above]);
    r
}

async fn send_with(
    client: &Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = client.request(method, path);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(body) = body {
        rb = rb.json(&body);
    }
    client.send(rb).await
}

fn message(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------- rules

backend_matrix!(rules_round_trip_in_grafanas_shapes, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    setup(&admin).await;

    let (s, list) = admin.get("/api/v1/provisioning/alert-rules").await;
    assert_eq!((s, list), (StatusCode::OK, json!([])));

    // POST → 201 with the rule; provenance "api"; a new group gets the default interval.
    let mut body = rule("CPU high", "node");
    body["uid"] = json!("cpu-high");
    body["notification_settings"] = json!({"receiver": "ops"});
    let (s, created) = admin.post("/api/v1/provisioning/alert-rules", body).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["uid"], "cpu-high");
    assert_eq!(created["orgID"], 1);
    assert_eq!(created["folderUID"], "infra");
    assert_eq!(created["ruleGroup"], "node");
    assert_eq!(created["provenance"], "api");
    assert_eq!(created["version"], 1);
    assert_eq!(created["for"], "5m");
    assert_eq!(created["notification_settings"], json!({"receiver": "ops"}));
    assert_eq!(created["data"][0]["model"]["expr"], "up");
    assert!(created["updated"].as_str().unwrap().ends_with('Z'));
    // Grafana's integer id beside the uid (clients such as grafana-backup expect it).
    let id = created["id"].as_i64().expect("an integer id");
    assert!(id > 0 && id < (1 << 53), "{id}");

    let (s, got) = admin.get("/api/v1/provisioning/alert-rules/cpu-high").await;
    assert_eq!((s, &got), (StatusCode::OK, &created));
    let (_, list) = admin.get("/api/v1/provisioning/alert-rules").await;
    assert_eq!(list, json!([created.clone()]));

    // X-Disable-Provenance: saved without provenance; a generated uid.
    let (s, second) = send_with(
        &admin,
        Method::POST,
        "/api/v1/provisioning/alert-rules",
        &[("X-Disable-Provenance", "true")],
        Some(rule("Memory high", "node")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    assert!(second.get("provenance").is_none(), "{second}");
    let second_uid = second["uid"].as_str().unwrap().to_string();
    assert!(is_valid_uid(&second_uid));

    // PUT with the version read → 200, version 2; a stale version → 409.
    let mut put = created.clone();
    put["title"] = json!("CPU very high");
    put["labels"] = json!({"severity": "critical"});
    let (s, updated) = admin
        .put("/api/v1/provisioning/alert-rules/cpu-high", put.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["title"], "CPU very high");
    assert_eq!(updated["labels"], json!({"severity": "critical"}));
    assert_eq!(updated["version"], 2);
    let (s, stale) = admin
        .put("/api/v1/provisioning/alert-rules/cpu-high", put)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{stale}");
    assert_eq!(stale["status"], "version-mismatch");
    // A title taken in the folder → 400.
    let mut dup = rule("Memory high", "node");
    dup["uid"] = json!("dup");
    let (s, b) = admin.post("/api/v1/provisioning/alert-rules", dup).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(message(&b).contains("already exists"), "{b}");

    // The group: title, folderUid, interval 60 (the default), rules in order.
    let (s, group) = admin
        .get("/api/v1/provisioning/folder/infra/rule-groups/node")
        .await;
    assert_eq!(s, StatusCode::OK, "{group}");
    assert_eq!(group["title"], "node");
    assert_eq!(group["folderUid"], "infra");
    assert_eq!(group["interval"], 60);
    let uids: Vec<&str> = group["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["cpu-high", second_uid.as_str()]);

    // PUT the group: new interval, reordered, one rule dropped, one added.
    let mut kept = group["rules"][0].clone();
    kept["title"] = json!("CPU renamed");
    let (s, replaced) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/node",
            json!({"interval": 30, "rules": [rule("Disk full", "ignored"), kept]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["interval"], 30);
    let rules = replaced["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["title"], "Disk full");
    assert_eq!(rules[0]["ruleGroup"], "node", "the path names the group");
    assert_eq!(rules[1]["uid"], "cpu-high");
    assert_eq!(rules[1]["version"], 3);
    let (s, _) = admin
        .get(&format!("/api/v1/provisioning/alert-rules/{second_uid}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "dropped from the group");
    // A stale version inside a group PUT → 409, nothing changed.
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/node",
            json!({"interval": 30, "rules": [group["rules"][0].clone()]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    let (_, after) = admin
        .get("/api/v1/provisioning/folder/infra/rule-groups/node")
        .await;
    assert_eq!(after["rules"].as_array().unwrap().len(), 2);

    // DELETE a rule → 204; then 404. DELETE the group → 204; then 404.
    let disk = rules[0]["uid"].as_str().unwrap().to_string();
    let (s, _) = admin
        .delete(&format!("/api/v1/provisioning/alert-rules/{disk}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = admin
        .delete(&format!("/api/v1/provisioning/alert-rules/{disk}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, _) = admin
        .delete("/api/v1/provisioning/folder/infra/rule-groups/node")
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = admin
        .get("/api/v1/provisioning/folder/infra/rule-groups/node")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (_, list) = admin.get("/api/v1/provisioning/alert-rules").await;
    assert_eq!(list, json!([]));

    // A retried create with the same Idempotency-Key replays the answer and creates one rule.
    let key = [("Idempotency-Key", "create-once")];
    let mut answers = Vec::new();
    for _ in 0..2 {
        answers.push(
            send_with(
                &admin,
                Method::POST,
                "/api/v1/provisioning/alert-rules",
                &key,
                Some(rule("Once", "node")),
            )
            .await,
        );
    }
    assert_eq!(answers[0].0, StatusCode::CREATED, "{}", answers[0].1);
    assert_eq!(answers[0], answers[1]);
    let (_, list) = admin.get("/api/v1/provisioning/alert-rules").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
});

backend_matrix!(bad_rules_are_refused_at_save_time, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    setup(&admin).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut r = rule("Bad", "g");
        f(&mut r);
        r
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "invalid expression",
            with(&|r| {
                r["data"][2]["model"] = json!({"type": "math", "expression": "$B +", "refId": "C"})
            }),
            "expression C",
        ),
        (
            "cyclic expressions",
            with(&|r| {
                r["data"][1]["model"] =
                    json!({"type": "math", "expression": "$C + 1", "refId": "B"});
                r["data"][2]["model"] =
                    json!({"type": "math", "expression": "$B * 2", "refId": "C"});
            }),
            "cycle",
        ),
        (
            "template that does not parse",
            with(&|r| r["annotations"]["summary"] = json!("{{ $labels.instance ")),
            "does not parse",
        ),
        (
            "bad for",
            with(&|r| r["for"] = json!("5 minutes")),
            "not a duration",
        ),
        (
            "unknown datasource",
            with(&|r| r["data"][0]["datasourceUid"] = json!("nope")),
            "data source \"nope\" not found",
        ),
        (
            "unknown folder",
            with(&|r| r["folderUID"] = json!("no-such-folder")),
            "folder does not exist",
        ),
        (
            "empty PromQL",
            with(&|r| r["data"][0]["model"]["expr"] = json!("  ")),
            "expr) is empty",
        ),
        ("no title", with(&|r| r["title"] = json!("")), "no title"),
        (
            "unknown condition",
            with(&|r| r["condition"] = json!("Z")),
            "condition Z",
        ),
    ];
    for (what, body, expected) in cases {
        let (s, b) = admin.post("/api/v1/provisioning/alert-rules", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {b}");
        let m = message(&b);
        assert!(m.starts_with("invalid alert rule: "), "{what}: {m}");
        assert!(m.contains(expected), "{what}: {m}");
    }
    // Wrong types in the body → 400 too.
    let (s, b) = admin
        .post("/api/v1/provisioning/alert-rules", json!({"title": 5}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    // A group interval that is not a multiple of 10 s.
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/g",
            json!({"interval": 15, "rules": [rule("R", "g")]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(message(&b).contains("multiple of 10s"), "{b}");
    // A group whose rule has a bad template names the rule.
    let mut bad = rule("Named", "g");
    bad["labels"]["x"] = json!("{{ nosuchfunc }}");
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/g",
            json!({"interval": 60, "rules": [bad]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(message(&b).contains("\"Named\""), "{b}");
    // Nothing was saved.
    let (_, list) = admin.get("/api/v1/provisioning/alert-rules").await;
    assert_eq!(list, json!([]));
});

backend_matrix!(roles_guard_the_alerting_routes, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    setup(&admin).await;
    let viewer = px.user_with_role("vera", "Viewer").await;
    let editor = px.user_with_role("eddie", "Editor").await;

    for path in [
        "/api/v1/provisioning/alert-rules",
        "/api/v1/provisioning/contact-points",
        "/api/v1/provisioning/policies",
        "/api/alertmanager/grafana/api/v2/silences",
        "/api/prometheus/grafana/api/v1/rules",
        "/api/v1/rules/history",
    ] {
        let (s, b) = viewer.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {b}");
        let (s, _) = px.anonymous().get(path).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    let hook = json!({"name": "ops", "type": "webhook",
                      "settings": {"url": "http://127.0.0.1:9/hook"}});
    let silence = json!({"matchers": [{"name": "a", "value": "b", "isRegex": false, "isEqual": true}],
        "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z",
        "comment": "c", "createdBy": "me"});
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/provisioning/alert-rules",
            Some(rule("R", "g")),
        ),
        (
            Method::PUT,
            "/api/v1/provisioning/folder/infra/rule-groups/g",
            Some(json!({"interval": 60, "rules": []})),
        ),
        (
            Method::DELETE,
            "/api/v1/provisioning/folder/infra/rule-groups/g",
            None,
        ),
        (
            Method::POST,
            "/api/v1/provisioning/contact-points",
            Some(hook.clone()),
        ),
        (
            Method::PUT,
            "/api/v1/provisioning/policies",
            Some(json!({"receiver": "ops"})),
        ),
        (Method::DELETE, "/api/v1/provisioning/policies", None),
        (
            Method::POST,
            "/api/alertmanager/grafana/api/v2/silences",
            Some(silence.clone()),
        ),
        (
            Method::DELETE,
            "/api/alertmanager/grafana/api/v2/silence/x",
            None,
        ),
        (
            Method::POST,
            "/api/alertmanager/grafana/config/api/v1/receivers/test",
            Some(json!({"receivers": []})),
        ),
    ];
    for (method, path, body) in &writes {
        let (s, b) = send_with(&viewer, method.clone(), path, &[], body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "viewer {method} {path}: {b}");
    }
    // An editor may write.
    let (s, b) = editor
        .post("/api/v1/provisioning/alert-rules", rule("R", "g"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = editor
        .post("/api/v1/provisioning/contact-points", hook)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, b) = editor
        .post("/api/alertmanager/grafana/api/v2/silences", silence)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, b) = editor
        .put("/api/v1/provisioning/policies", json!({"receiver": "ops"}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
});

// ---------------------------------------------------------------- contact points

/// The raw stored contact point texts (PostgreSQL) or every byte of the SQLite files.
fn raw_database_text(px: &Pharos) -> String {
    match px.db.backend {
        Backend::Postgres => psql_at(
            &px.db.url,
            "SELECT string_agg(secure_settings || ' ' || settings, ' ') FROM contact_points",
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

/// What a webhook receiver run by the test saw: each request's Authorization header and body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on a free port answering 200 (or hanging when `hang`).
async fn receiver(hang: bool) -> (String, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    sink.lock().unwrap().push((auth, body));
                    if hang {
                        tokio::time::sleep(Duration::from_secs(120)).await;
                    }
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

backend_matrix!(
    contact_point_secrets_are_encrypted_and_redacted,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let (url, seen) = receiver(false).await;

        let (s, created) = admin
            .post(
                "/api/v1/provisioning/contact-points",
                json!({"uid": "ops-hook", "name": "ops", "type": "webhook",
                   "settings": {"url": url, "username": "alice", "password": "hook-secret-1"}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{created}");
        assert_eq!(created["uid"], "ops-hook");
        assert_eq!(created["settings"]["password"], "[REDACTED]");
        assert_eq!(created["settings"]["username"], "alice");
        assert_eq!(created["provenance"], "api");
        let (s, am) = admin
            .post(
                "/api/v1/provisioning/contact-points",
                json!({"name": "ops", "type": "prometheus-alertmanager",
                   "settings": {"url": "http://127.0.0.1:9093", "basicAuthUser": "am",
                                "basicAuthPassword": "am-secret-2"}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{am}");

        let (s, list) = admin.get("/api/v1/provisioning/contact-points").await;
        assert_eq!(s, StatusCode::OK);
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        let text = serde_json::to_string(list).unwrap();
        assert!(
            !text.contains("hook-secret-1") && !text.contains("am-secret-2"),
            "{text}"
        );
        let am_item = list
            .iter()
            .find(|c| c["type"] == "prometheus-alertmanager")
            .unwrap();
        assert_eq!(am_item["settings"]["basicAuthPassword"], "[REDACTED]");
        let (_, by_name) = admin
            .get("/api/v1/provisioning/contact-points?name=nobody")
            .await;
        assert_eq!(by_name, json!([]));

        // Encrypted at rest.
        let raw = raw_database_text(&px);
        assert!(raw.contains("alice"), "the plain settings are stored");
        for secret in ["hook-secret-1", "am-secret-2"] {
            assert!(!raw.contains(secret), "{secret} stored in plain text");
        }

        // PUT with the redacted value keeps the secret: the receiver test sends it.
        let mut put = created.clone();
        put["settings"]["url"] = json!(url);
        let (s, b) = admin
            .put("/api/v1/provisioning/contact-points/ops-hook", put.clone())
            .await;
        assert_eq!(
            (s, b),
            (
                StatusCode::ACCEPTED,
                json!({"message": "contactpoint updated"})
            )
        );
        let (s, result) = admin
            .post(
                "/api/alertmanager/grafana/config/api/v1/receivers/test",
                json!({"receivers": [{"name": "ops", "grafana_managed_receiver_configs": [
                {"uid": "ops-hook", "name": "ops", "type": "webhook",
                 "settings": {"url": url, "username": "alice"}}]}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{result}");
        let expected_auth = format!("Basic {}", base64_encode(b"alice:hook-secret-1"));
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].0, expected_auth);
        }
        // A stale version → 409; a new password replaces the old one.
        let (s, b) = admin
            .put("/api/v1/provisioning/contact-points/ops-hook", put.clone())
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        put["version"] = json!(2);
        put["settings"]["password"] = json!("hook-secret-3");
        let (s, b) = admin
            .put("/api/v1/provisioning/contact-points/ops-hook", put)
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        assert!(!raw_database_text(&px).contains("hook-secret-3"));

        // Bad input.
        for (body, expected) in [
            (
                json!({"name": "x", "type": "slack", "settings": {}}),
                "unsupported contact point type",
            ),
            (
                json!({"name": "x", "type": "webhook", "settings": {"url": "ftp://x"}}),
                "not http",
            ),
            (
                json!({"name": "x", "type": "webhook", "settings": {}}),
                "invalid contact point settings",
            ),
            (
                json!({"name": "", "type": "webhook", "settings": {"url": "http://x"}}),
                "name is required",
            ),
            (
                json!({"name": "x", "type": "prometheus-alertmanager", "settings": {"url": ""}}),
                "url is required",
            ),
            (
                json!({"name": "x", "type": "email", "settings": {"addresses": "not an address"}}),
                "invalid contact point settings",
            ),
            (
                json!({"name": "x", "type": "webhook", "settings": {"url": "http://x", "password": 5}}),
                "must be a string",
            ),
        ] {
            let (s, b) = admin
                .post("/api/v1/provisioning/contact-points", body.clone())
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
            assert!(message(&b).contains(expected), "{body}: {b}");
        }
        // E-mail with good addresses saves (checked without sending).
        let (s, b) = admin
            .post(
                "/api/v1/provisioning/contact-points",
                json!({"name": "mail", "type": "email",
                   "settings": {"addresses": "a@example.com;b@example.com"}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");

        // Unknown → 404; delete → 202.
        let (s, _) = admin
            .put(
                "/api/v1/provisioning/contact-points/nope",
                json!({"name": "x", "type": "webhook", "settings": {"url": "http://x"}}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, b) = admin
            .delete("/api/v1/provisioning/contact-points/ops-hook")
            .await;
        assert_eq!(
            (s, b),
            (
                StatusCode::ACCEPTED,
                json!({"message": "contactpoint deleted"})
            )
        );
        let (s, _) = admin
            .delete("/api/v1/provisioning/contact-points/ops-hook")
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
);

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

backend_matrix!(
    receiver_test_reports_delivery_failure_and_timeout,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let (good, seen) = receiver(false).await;
        let (hanging, _) = receiver(true).await;
        let integration = |url: &str| json!({"uid": "", "name": "hook", "type": "webhook", "settings": {"url": url}});
        let test = |configs: Vec<Value>| {
            json!({"alert": {"labels": {"team": "ops"}, "annotations": {"summary": "hello"}},
               "receivers": [{"name": "ops", "grafana_managed_receiver_configs": configs}]})
        };
        let path = "/api/alertmanager/grafana/config/api/v1/receivers/test";

        // Delivered: 200, the receiver got Grafana's webhook payload with the test alert.
        let (s, result) = admin.post(path, test(vec![integration(&good)])).await;
        assert_eq!(s, StatusCode::OK, "{result}");
        assert_eq!(result["receivers"][0]["name"], "ops");
        assert_eq!(
            result["receivers"][0]["grafana_managed_receiver_configs"][0]["status"],
            "ok"
        );
        assert_eq!(result["alert"]["labels"]["alertname"], "TestAlert");
        assert!(result["notified_at"].is_string());
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 1);
            let payload = &seen[0].1;
            assert_eq!(payload["status"], "firing");
            assert_eq!(payload["receiver"], "ops");
            assert_eq!(payload["alerts"][0]["labels"]["team"], "ops");
            assert_eq!(payload["alerts"][0]["labels"]["alertname"], "TestAlert");
            assert_eq!(payload["alerts"][0]["annotations"]["summary"], "hello");
        }

        // A hanging receiver is cut off by Request-Timeout: 408.
        let started = Instant::now();
        let (s, result) = send_with(
            &admin,
            Method::POST,
            path,
            &[("Request-Timeout", "1")],
            Some(test(vec![integration(&hanging)])),
        )
        .await;
        assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{result}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let config = &result["receivers"][0]["grafana_managed_receiver_configs"][0];
        assert_eq!(config["status"], "failed");
        assert!(
            config["error"].as_str().unwrap().contains("timed out"),
            "{config}"
        );
        assert!(result["message"].is_string());

        // One good, one refused (nothing listens): 207; all invalid: 400.
        let (s, result) = admin
            .post(
                path,
                test(vec![
                    integration(&good),
                    integration("http://127.0.0.1:9/hook"),
                ]),
            )
            .await;
        assert_eq!(s, StatusCode::MULTI_STATUS, "{result}");
        let configs = &result["receivers"][0]["grafana_managed_receiver_configs"];
        assert_eq!(configs[0]["status"], "ok");
        assert_eq!(configs[1]["status"], "failed");
        let (s, result) = admin
            .post(
                path,
                test(vec![
                    json!({"name": "x", "type": "webhook", "settings": {"url": "nope"}}),
                ]),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{result}");
        let err = result["receivers"][0]["grafana_managed_receiver_configs"][0]["error"]
            .as_str()
            .unwrap();
        assert!(err.contains("the receiver is invalid"), "{err}");
        let (s, b) = admin.post(path, json!({"receivers": []})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    }
);

// ---------------------------------------------------------------- policies

backend_matrix!(
    policy_tree_is_validated_saved_and_reset,
    |backend| async move {
        let px = start(backend).await;
        let admin = px.admin();
        let path = "/api/v1/provisioning/policies";

        let (s, tree) = admin.get(path).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(tree["receiver"], "grafana-default-email");
        assert_eq!(tree["group_by"], json!(["grafana_folder", "alertname"]));

        let ops = json!({
            "receiver": "ops",
            "group_by": ["alertname"],
            "routes": [{"receiver": "pager", "object_matchers": [["severity", "=", "page"]],
                        "group_wait": "10s"}],
        });
        // Unknown receivers → 400.
        let (s, b) = admin.put(path, ops.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(message(&b).contains("unknown receiver"), "{b}");
        for name in ["ops", "pager"] {
            let (s, b) = admin
                .post(
                    "/api/v1/provisioning/contact-points",
                    json!({"uid": name, "name": name, "type": "webhook",
                       "settings": {"url": "http://127.0.0.1:9/"}}),
                )
                .await;
            assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        }
        // Bad matcher operator, bad duration → 400.
        let mut bad = ops.clone();
        bad["routes"][0]["object_matchers"] = json!([["severity", "~~", "page"]]);
        let (s, b) = admin.put(path, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        let mut bad = ops.clone();
        bad["routes"][0]["group_wait"] = json!("soon");
        let (s, b) = admin.put(path, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(message(&b).contains("not a duration"), "{b}");

        let (s, b) = admin.put(path, ops.clone()).await;
        assert_eq!(
            (s, b),
            (StatusCode::ACCEPTED, json!({"message": "policies updated"}))
        );
        let (_, saved) = admin.get(path).await;
        assert_eq!(saved["receiver"], "ops");
        assert_eq!(
            saved["routes"][0]["object_matchers"],
            json!([["severity", "=", "page"]])
        );
        assert_eq!(saved["provenance"], "api");
        assert_eq!(saved["version"], 1);
        // A stale version → 409; the current one saves.
        let mut next = saved.clone();
        next["version"] = json!(0);
        let (s, b) = admin.put(path, next.clone()).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        next["version"] = json!(1);
        let (s, _) = send_with(
            &admin,
            Method::PUT,
            path,
            &[("X-Disable-Provenance", "")],
            Some(next),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let (_, saved) = admin.get(path).await;
        assert!(saved.get("provenance").is_none(), "{saved}");

        // A contact point the tree routes to cannot be deleted.
        let (s, b) = admin
            .delete("/api/v1/provisioning/contact-points/pager")
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert!(message(&b).contains("referenced"), "{b}");

        // DELETE resets to the default.
        let (s, b) = admin.delete(path).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        assert_eq!(b["receiver"], "grafana-default-email");
        let (_, tree) = admin.get(path).await;
        assert_eq!(tree["receiver"], "grafana-default-email");
        let (s, _) = admin
            .delete("/api/v1/provisioning/contact-points/pager")
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "no longer referenced");
    }
);

// ---------------------------------------------------------------- silences

backend_matrix!(silences_lifecycle, |backend| async move {
    let px = start(backend).await;
    let admin = px.admin();
    let base = "/api/alertmanager/grafana/api/v2";
    let silence = json!({
        "matchers": [{"name": "team", "value": "ops", "isRegex": false, "isEqual": true}],
        "startsAt": "2020-01-01T00:00:00Z",
        "endsAt": "2999-01-01T00:00:00Z",
        "comment": "maintenance",
        "createdBy": "alice",
    });
    let (s, b) = admin
        .post(&format!("{base}/silences"), silence.clone())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let id = b["silenceID"].as_str().unwrap().to_string();

    let (s, got) = admin.get(&format!("{base}/silence/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["status"]["state"], "active");
    assert_eq!(got["comment"], "maintenance");
    assert_eq!(got["createdBy"], "alice");
    assert_eq!(got["matchers"], silence["matchers"]);
    assert_eq!(got["endsAt"], "2999-01-01T00:00:00Z");
    assert_ne!(
        got["startsAt"], "2020-01-01T00:00:00Z",
        "a past start becomes now"
    );

    // Update by id (same matchers): in place.
    let mut update = silence.clone();
    update["id"] = json!(id);
    update["comment"] = json!("longer maintenance");
    let (s, b) = admin.post(&format!("{base}/silences"), update).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["silenceID"], id.as_str());
    let (_, got) = admin.get(&format!("{base}/silence/{id}")).await;
    assert_eq!(got["comment"], "longer maintenance");
    // Other matchers on an active one: expired and replaced by a new id.
    let mut changed = silence.clone();
    changed["id"] = json!(id);
    changed["matchers"] =
        json!([{"name": "team", "value": "dev", "isRegex": false, "isEqual": true}]);
    let (s, b) = admin.post(&format!("{base}/silences"), changed).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let new_id = b["silenceID"].as_str().unwrap().to_string();
    assert_ne!(new_id, id);
    let (_, old) = admin.get(&format!("{base}/silence/{id}")).await;
    assert_eq!(old["status"]["state"], "expired");

    // The list and its filter.
    let (_, all) = admin.get(&format!("{base}/silences")).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (s, filtered) = admin
        .get(&format!("{base}/silences?filter=team%3D%22dev%22"))
        .await;
    assert_eq!(s, StatusCode::OK, "{filtered}");
    let filtered = filtered.as_array().unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["id"], new_id.as_str());
    let (s, _) = admin
        .get(&format!("{base}/silences?filter=team%3D~%22(%22"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Expire → 200; unknown → 404.
    let (s, b) = admin.delete(&format!("{base}/silence/{new_id}")).await;
    assert_eq!(
        (s, b),
        (StatusCode::OK, json!({"message": "silence deleted"}))
    );
    let (_, got) = admin.get(&format!("{base}/silence/{new_id}")).await;
    assert_eq!(got["status"]["state"], "expired");
    let (s, b) = admin.delete(&format!("{base}/silence/nope")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, _) = admin.get(&format!("{base}/silence/nope")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let mut unknown = silence.clone();
    unknown["id"] = json!("nope");
    let (s, _) = admin.post(&format!("{base}/silences"), unknown).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Bad silences → 400.
    let with = |f: &dyn Fn(&mut Value)| {
        let mut s = silence.clone();
        f(&mut s);
        s
    };
    for (what, body, expected) in [
        (
            "no matchers",
            with(&|s| s["matchers"] = json!([])),
            "at least one matcher",
        ),
        (
            "bad regex",
            with(&|s| s["matchers"][0] = json!({"name": "a", "value": "(", "isRegex": true})),
            "regular expression",
        ),
        (
            "matches everything",
            with(&|s| s["matchers"][0] = json!({"name": "a", "value": ".*", "isRegex": true})),
            "empty string",
        ),
        (
            "ended",
            with(&|s| s["endsAt"] = json!("2021-01-01T00:00:00Z")),
            "in the past",
        ),
        ("no comment", with(&|s| s["comment"] = json!("")), "comment"),
        ("bad time", with(&|s| s["endsAt"] = json!("tomorrow")), ""),
    ] {
        let (s, b) = admin.post(&format!("{base}/silences"), body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {b}");
        assert!(message(&b).contains(expected), "{what}: {b}");
    }
});

// ---------------------------------------------------------------- state

backend_matrix!(
    state_endpoints_answer_rules_and_history,
    |backend| async move {
        // No evaluation here (the rule's datasource is unreachable, and an edit is evaluated at
        // once): the routes' shapes for a rule never evaluated.
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_ALERTING_ENABLED", "false"),
        )
        .await;
        let admin = px.admin();
        setup(&admin).await;
        let mut body = rule("CPU high", "node");
        body["uid"] = json!("cpu");
        let (s, b) = admin.post("/api/v1/provisioning/alert-rules", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        let (s, rules) = admin.get("/api/prometheus/grafana/api/v1/rules").await;
        assert_eq!(s, StatusCode::OK, "{rules}");
        assert_eq!(rules["status"], "success");
        let group = &rules["data"]["groups"][0];
        assert_eq!(group["name"], "node");
        assert_eq!(group["file"], "Infra");
        assert_eq!(group["interval"], 60);
        let r = &group["rules"][0];
        assert_eq!(r["name"], "CPU high");
        assert_eq!(r["uid"], "cpu");
        assert_eq!(r["state"], "inactive");
        assert_eq!(r["health"], "unknown");
        assert_eq!(r["duration"], 300);
        assert_eq!(r["type"], "alerting");
        assert_eq!(r["alerts"], json!([]));
        assert_eq!(rules["data"]["totals"]["inactive"], 1);
        let (_, none) = admin
            .get("/api/prometheus/grafana/api/v1/rules?rule_group=other")
            .await;
        assert_eq!(none["data"]["groups"], json!([]));

        let (s, frame) = admin
            .get("/api/v1/rules/history?ruleUID=cpu&from=0&to=2000000000&limit=10")
            .await;
        assert_eq!(s, StatusCode::OK, "{frame}");
        assert_eq!(frame["schema"]["fields"][0]["name"], "time");
        assert_eq!(frame["data"]["values"], json!([[], [], []]));
        let (s, _) = admin.get("/api/v1/rules/history?limit=0").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = admin.get("/api/v1/rules/history?from=yesterday").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
);

backend_matrix!(
    evaluated_rules_show_their_alerts_and_history,
    |backend| async move {
        // The replica holds the alerting lease (on by default) and evaluates a TestData rule that
        // fires at once; the state routes then show what the scheduler persisted.
        let px = start(backend).await;
        let admin = px.admin();
        setup_testdata(&admin).await;
        let firing = testdata_rule("five", "Always five", 1.0);
        let (s, b) = admin
            .put(
                "/api/v1/provisioning/folder/infra/rule-groups/fast",
                json!({"interval": 10, "rules": [firing]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let deadline = Instant::now() + Duration::from_secs(60);
        let rule_state = loop {
            let (s, rules) = admin
                .get("/api/prometheus/grafana/api/v1/rules?rule_uid=five")
                .await;
            assert_eq!(s, StatusCode::OK, "{rules}");
            let r = rules["data"]["groups"][0]["rules"][0].clone();
            if r["state"] == "firing" {
                break r;
            }
            assert!(Instant::now() < deadline, "never fired: {rules}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert_eq!(rule_state["health"], "ok", "{rule_state}");
        let alert = &rule_state["alerts"][0];
        assert_eq!(alert["state"], "Alerting", "{alert}");
        assert_eq!(alert["labels"]["alertname"], "Always five");
        assert_eq!(alert["labels"]["grafana_folder"], "Infra");
        assert_eq!(alert["value"], "1e+00", "the condition's value: C fires");
        assert!(
            alert["activeAt"].as_str().unwrap().starts_with("20"),
            "{alert}"
        );
        assert_eq!(rule_state["totals"]["alerting"], 1);
        assert_ne!(rule_state["lastEvaluation"], "0001-01-01T00:00:00Z");

        let (s, frame) = admin
            .get("/api/v1/rules/history?ruleUID=five&from=0&limit=10")
            .await;
        assert_eq!(s, StatusCode::OK, "{frame}");
        let lines = frame["data"]["values"][1].as_array().unwrap();
        assert!(!lines.is_empty(), "{frame}");
        assert_eq!(lines[0]["previous"], "Normal");
        assert_eq!(lines[0]["current"], "Alerting");
        assert_eq!(lines[0]["ruleUID"], "five");
        let at = frame["data"]["values"][0][0].as_i64().unwrap();
        // `to` in seconds before the transition excludes it; in milliseconds after it includes it.
        let (_, before) = admin
            .get(&format!(
                "/api/v1/rules/history?ruleUID=five&to={}",
                at / 1000 - 1
            ))
            .await;
        assert_eq!(before["data"]["values"][0], json!([]));
        let (_, upto) = admin
            .get(&format!("/api/v1/rules/history?ruleUID=five&to={at}"))
            .await;
        assert_eq!(upto["data"]["values"][0][0], at);
    }
);

// ---------------------------------------------------------------- queries checked by their datasource

/// A rule whose query A is `expr` against the datasource `datasource`.
fn rule_with_query(title: &str, datasource: &str, expr: &str) -> Value {
    let mut body = rule(title, "checked");
    body["data"][0]["datasourceUid"] = json!(datasource);
    body["data"][0]["model"]["expr"] = json!(expr);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_the_datasource_refuses_is_a_400_at_save_time() {
    let prometheus =
        pharos_testkit::prometheus::Prometheus::start(&[], Duration::from_secs(1)).await;
    let px = start(Backend::Sqlite).await;
    let admin = px.admin();
    setup(&admin).await;
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "Live", "type": "prometheus", "uid": "live", "url": prometheus.url}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Prometheus' own parser is the judge, and its words are the message.
    let (s, body) = admin
        .post(
            "/api/v1/provisioning/alert-rules",
            rule_with_query("Broken", "live", "rate(up[5m]"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let said = message(&body);
    assert!(
        said.starts_with("invalid alert rule: query A: ") && said.contains("parse error"),
        "{said}"
    );
    let (s, body) = admin
        .post(
            "/api/v1/provisioning/alert-rules",
            rule_with_query("Bad function", "live", "no_such_function(up)"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).contains("no_such_function"), "{body}");

    // A good query saves; an update to a broken one is refused and the rule stays as it was.
    let (s, created) = admin
        .post(
            "/api/v1/provisioning/alert-rules",
            rule_with_query("Fine", "live", "rate(up[5m])"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let uid = created["uid"].as_str().unwrap().to_string();
    let mut broken = created.clone();
    broken["data"][0]["model"]["expr"] = json!("sum by (job up");
    let (s, body) = admin
        .put(&format!("/api/v1/provisioning/alert-rules/{uid}"), broken)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).starts_with("invalid alert rule: query A: "),
        "{body}"
    );
    let (_, now) = admin
        .get(&format!("/api/v1/provisioning/alert-rules/{uid}"))
        .await;
    assert_eq!(now["data"][0]["model"]["expr"], "rate(up[5m])");

    // The rule-group PUT checks every rule's queries too.
    let group = json!({"interval": 60, "rules": [
        rule_with_query("Fine", "live", "up"),
        rule_with_query("Broken", "live", "up{"),
    ]});
    let (s, body) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/checked",
            group,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).starts_with("invalid alert rule: query A: "),
        "{body}"
    );

    // A datasource that cannot be reached says nothing about the query: the save goes on (the
    // rule's evaluations report the error) and the log says why it was not checked.
    let (s, body) = admin
        .post(
            "/api/v1/provisioning/alert-rules",
            rule_with_query("Unreachable", "prom", "rate(up[5m]"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert!(
        px.logs()
            .iter()
            .any(|l| l.contains("could not be checked at save")),
        "a warning is logged"
    );
}

// ---------------------------------------------------------------- alert annotations

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_are_annotations_on_the_linked_panel() {
    // Two TestData rules that fire at once, linked by Grafana's annotations to two panels; the
    // replica's scheduler evaluates them, and their transitions come back as alert annotations.
    let px = start(Backend::Sqlite).await;
    let admin = px.admin();
    setup_testdata(&admin).await;
    let firing = |uid: &str, title: &str, dashboard: &str, panel: &str| {
        let mut r = testdata_rule(uid, title, 1.0);
        r["annotations"] = json!({"__dashboardUid__": dashboard, "__panelId__": panel});
        r
    };
    // Evaluations are stamped with their slot's start (a multiple of the interval), which may be
    // up to one interval before the save.
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 10_000;
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/fast",
            json!({"interval": 10, "rules": [
                firing("five", "Five", "dash-1", "2"),
                firing("other", "Other", "dash-2", "7"),
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let viewer = px.user_with_role("viewer", "Viewer").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = loop {
        let (s, list) = viewer
            .get(&format!(
                "/api/annotations?type=alert&dashboardUID=dash-1&from={before}&to=9999999999999"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        if !list.as_array().unwrap().is_empty() {
            break list;
        }
        assert!(Instant::now() < deadline, "no annotation appeared");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let a = &list[0];
    assert_eq!(a["alertName"], "Five", "{a}");
    assert_eq!(a["alertId"], 0);
    assert_eq!(a["dashboardUID"], "dash-1");
    assert_eq!(a["panelId"], 2);
    assert_eq!(a["prevState"], "Normal");
    assert_eq!(a["newState"], "Alerting");
    assert_eq!(a["tags"], json!([]));
    assert_eq!(a["data"]["ruleUID"], "five");
    let at = a["time"].as_i64().unwrap();
    assert!(at >= before, "{a}");
    assert_eq!(a["timeEnd"], at);
    let text = a["text"].as_str().unwrap();
    assert!(
        text.contains("alertname=Five") && text.contains("B=5"),
        "{text}"
    );
    assert!(a["id"].as_i64().unwrap() > 0);

    // Filters: panel, another dashboard, the range, the limit, and all dashboards.
    let (_, on_panel) = viewer
        .get("/api/annotations?dashboardUID=dash-1&panelId=2")
        .await;
    assert_eq!(on_panel[0]["id"], a["id"], "{on_panel}");
    let (_, other_panel) = viewer
        .get("/api/annotations?dashboardUID=dash-1&panelId=3")
        .await;
    assert_eq!(other_panel, json!([]));
    let (_, before_it) = viewer
        .get(&format!(
            "/api/annotations?dashboardUID=dash-1&to={}",
            at - 1
        ))
        .await;
    assert_eq!(before_it, json!([]));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, everything) = viewer.get("/api/annotations?type=alert").await;
        let names: std::collections::BTreeSet<String> = everything
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alertName"].as_str().unwrap().to_string())
            .collect();
        if names.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{everything}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (_, one) = viewer.get("/api/annotations?limit=1").await;
    assert_eq!(one.as_array().unwrap().len(), 1, "{one}");

    // Manual annotations: none in Pharos yet.
    let (s, manual) = viewer.get("/api/annotations?type=annotation").await;
    assert_eq!((s, manual), (StatusCode::OK, json!([])));
    // Bad input and no credentials.
    for bad in ["from=yesterday", "limit=0", "type=bogus", "panelId=x"] {
        let (s, body) = viewer.get(&format!("/api/annotations?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(!message(&body).is_empty(), "{body}");
    }
    let (s, _) = px.anonymous().get("/api/annotations").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------- edits apply at once

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_edits_reach_the_evaluating_replica_through_the_change_feed() {
    // The scheduler's periodic reload is a 30 s safety net; an edit is in force at the next
    // evaluation because the change feed wakes the scheduler. A 10 s group, so each change
    // shows within one interval plus a tick.
    let px = Pharos::start_with(
        Database::fresh(Backend::Sqlite),
        Options::default().env("PHAROS_LOG_LEVEL", "info,pharos_server::alerting=debug"),
    )
    .await;
    let admin = px.admin();
    setup_testdata(&admin).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !px
        .logs()
        .iter()
        .any(|l| l.contains("holding the alerting lease"))
    {
        assert!(Instant::now() < deadline, "never took the alerting lease");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the first (startup) load pass.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reloads = |px: &Pharos| {
        px.logs()
            .iter()
            .filter(|l| l.contains("reloading rules at once"))
            .count()
    };
    let before = reloads(&px);

    let with_threshold =
        |above: f64| json!({"interval": 10, "rules": [testdata_rule("load", "Load", above)]});
    let state_within = |want: &'static str, within: Duration| {
        let admin = admin.clone();
        async move {
            let deadline = Instant::now() + within;
            loop {
                let (_, rules) = admin
                    .get("/api/prometheus/grafana/api/v1/rules?rule_uid=load")
                    .await;
                let r = &rules["data"]["groups"][0]["rules"][0];
                if r["state"] == want && r["health"] == "ok" {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "not {want} within {within:?}: {rules}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };

    let saved_at = Instant::now();
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/fast",
            with_threshold(1.0),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let deadline = Instant::now() + Duration::from_secs(3);
    while reloads(&px) == before {
        assert!(
            Instant::now() < deadline,
            "the save did not wake the scheduler"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    state_within("firing", Duration::from_secs(15)).await;
    println!("new rule firing after {:?}", saved_at.elapsed());

    // An edit that stops it firing: in force at the next evaluation too.
    let edited_at = Instant::now();
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/fast",
            with_threshold(100.0),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    state_within("inactive", Duration::from_secs(15)).await;
    println!("edited rule normal after {:?}", edited_at.elapsed());
}

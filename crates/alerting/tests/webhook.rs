//! The webhook notifier against a receiver this test runs (a small axum server that records
//! every request and answers as told): Grafana's payload fields, basic and bearer auth, the
//! idempotency key, the timeout on a receiver that hangs, and retryable versus permanent errors.
//! The last test drives the whole pure pipeline (policy → group timers → notification) into it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use pharos_alerting::group::{Alert, GroupState};
use pharos_alerting::notify::{Notification, Notifier, WebhookNotifier};
use pharos_alerting::route::Route;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
struct Captured {
    method: Method,
    headers: HeaderMap,
    body: Value,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Captured>>>,
    status: Arc<AtomicU16>,
    hang: Arc<AtomicBool>,
}

impl Receiver {
    fn seen(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(r): State<Receiver>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.seen.lock().unwrap().push(Captured {
        method,
        headers,
        body,
    });
    if r.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
}

/// Starts the receiver on a free port; returns its `/hook` URL.
async fn receiver() -> (String, Receiver) {
    let r = Receiver {
        seen: Arc::default(),
        status: Arc::new(AtomicU16::new(200)),
        hang: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::any(record))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), r)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(instance: &str, resolved_at: Option<i64>) -> Alert {
    Alert {
        labels: labels(&[
            ("alertname", "HighLoad"),
            ("instance", instance),
            ("team", "ops"),
        ]),
        annotations: BTreeMap::from([
            ("summary".to_string(), format!("load on {instance}")),
            (
                "runbook_url".to_string(),
                "http://runbooks/load".to_string(),
            ),
        ]),
        starts_at: 1_767_225_600_000,
        ends_at: resolved_at,
        generator_url: "http://pharos:3000/alerting/grafana/load/view".into(),
        values: BTreeMap::from([("B".to_string(), Some(3.5)), ("C".to_string(), Some(1.0))]),
        value_string: "[ var='B' labels={instance=a} value=3.5 ]".into(),
    }
}

fn notification(log_key: &str, alerts: Vec<Alert>) -> Notification {
    Notification {
        log_key: log_key.into(),
        receiver: "ops-hook".into(),
        group_key: "{}:{alertname=\"HighLoad\"}".into(),
        group_labels: labels(&[("alertname", "HighLoad")]),
        alerts,
        org_id: 1,
        external_url: "http://pharos:3000".into(),
    }
}

fn webhook(settings: Value) -> WebhookNotifier {
    WebhookNotifier::new(serde_json::from_value(settings).unwrap()).unwrap()
}

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn delivers_grafanas_payload_with_basic_auth_and_an_idempotency_key() {
    let (url, r) = receiver().await;
    let w = webhook(json!({"url": url, "username": "user", "password": "secret"}));
    let n = notification(
        "ops-hook/{}:{alertname=\"HighLoad\"}/1767225630000",
        vec![alert("a", None), alert("b", Some(1_767_225_660_000))],
    );
    w.notify(&n, TIMEOUT).await.unwrap();
    let seen = r.seen();
    assert_eq!(seen.len(), 1);
    let c = &seen[0];
    assert_eq!(c.method, Method::POST);
    assert_eq!(c.headers["authorization"], "Basic dXNlcjpzZWNyZXQ=");
    assert_eq!(c.headers["content-type"], "application/json");
    let key = c.headers["idempotency-key"].to_str().unwrap().to_string();
    assert_eq!(key.len(), 32);
    let b = &c.body;
    assert_eq!(b["idempotencyKey"], key.as_str());
    assert_eq!(b["receiver"], "ops-hook");
    assert_eq!(b["status"], "firing");
    assert_eq!(b["state"], "alerting");
    assert_eq!(b["version"], "1");
    assert_eq!(b["orgId"], 1);
    assert_eq!(b["groupKey"], "{}:{alertname=\"HighLoad\"}");
    assert_eq!(b["truncatedAlerts"], 0);
    assert_eq!(b["externalURL"], "http://pharos:3000");
    assert_eq!(b["groupLabels"], json!({"alertname": "HighLoad"}));
    assert_eq!(
        b["commonLabels"],
        json!({"alertname": "HighLoad", "team": "ops"})
    );
    assert_eq!(
        b["commonAnnotations"],
        json!({"runbook_url": "http://runbooks/load"})
    );
    assert_eq!(b["title"], "[FIRING:1] HighLoad");
    assert!(b["message"].as_str().unwrap().contains("**Resolved**"));
    let alerts = b["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    let a = &alerts[0];
    assert_eq!(a["status"], "firing");
    assert_eq!(a["labels"]["instance"], "a");
    assert_eq!(a["annotations"]["summary"], "load on a");
    assert_eq!(a["startsAt"], "2026-01-01T00:00:00.000Z");
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(a["values"], json!({"B": 3.5, "C": 1.0}));
    assert_eq!(
        a["generatorURL"],
        "http://pharos:3000/alerting/grafana/load/view"
    );
    assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
    assert!(a["silenceURL"]
        .as_str()
        .unwrap()
        .starts_with("http://pharos:3000/alerting/silence/new?alertmanager=grafana&matchers="));
    assert_eq!(alerts[1]["status"], "resolved");
    assert_eq!(alerts[1]["endsAt"], "2026-01-01T00:01:00.000Z");

    // A resend of the same log entry carries the same key; another entry another key.
    w.notify(&n, TIMEOUT).await.unwrap();
    let other = notification("ops-hook/other/1", vec![alert("a", None)]);
    w.notify(&other, TIMEOUT).await.unwrap();
    let seen = r.seen();
    assert_eq!(seen[1].headers["idempotency-key"], key.as_str());
    assert_ne!(seen[2].headers["idempotency-key"], key.as_str());
}

#[tokio::test]
async fn bearer_credentials_put_and_max_alerts() {
    let (url, r) = receiver().await;
    let w = webhook(
        json!({"url": url, "httpMethod": "PUT", "authorization_credentials": "tok3n",
        "maxAlerts": 1, "title": "{{ len .Alerts }} on {{ .CommonLabels.team }}"}),
    );
    let n = notification(
        "k",
        vec![alert("a", None), alert("b", None), alert("c", None)],
    );
    w.notify(&n, TIMEOUT).await.unwrap();
    let c = &r.seen()[0];
    assert_eq!(c.method, Method::PUT);
    assert_eq!(c.headers["authorization"], "Bearer tok3n");
    assert_eq!(c.body["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(c.body["truncatedAlerts"], 2);
    assert_eq!(c.body["title"], "3 on ops");

    let w = webhook(json!({"url": url, "authorization_scheme": "Token",
        "authorization_credentials": "abc"}));
    w.notify(&n, TIMEOUT).await.unwrap();
    assert_eq!(r.seen()[1].headers["authorization"], "Token abc");
}

#[tokio::test]
async fn a_hanging_receiver_is_cut_off_by_the_timeout() {
    let (url, r) = receiver().await;
    r.hang.store(true, Ordering::SeqCst);
    let w = webhook(json!({"url": url}));
    let started = Instant::now();
    let err = w
        .notify(
            &notification("k", vec![alert("a", None)]),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("no answer within"), "{err}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(r.seen().len(), 1, "the request did reach the receiver");
}

#[tokio::test]
async fn server_errors_are_retryable_client_errors_permanent() {
    let (url, r) = receiver().await;
    let w = webhook(json!({"url": url}));
    let n = notification("k", vec![alert("a", None)]);
    for (status, retryable) in [
        (500, true),
        (503, true),
        (429, true),
        (400, false),
        (401, false),
        (404, false),
    ] {
        r.status.store(status, Ordering::SeqCst);
        let err = w.notify(&n, TIMEOUT).await.unwrap_err();
        assert_eq!(err.retryable, retryable, "{status}: {err}");
        assert!(err.message.contains(&status.to_string()), "{err}");
    }
    r.status.store(204, Ordering::SeqCst);
    w.notify(&n, TIMEOUT).await.unwrap();

    // Nobody listening: a connection error, retryable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let w = webhook(json!({"url": format!("http://127.0.0.1:{port}/hook")}));
    let err = w.notify(&n, TIMEOUT).await.unwrap_err();
    assert!(err.retryable, "{err}");
}

/// Policy tree → group timers → notifications, as the scheduler will drive them: the receiver
/// sees the firing notification after group_wait, the resolution at the next group_interval,
/// and a holder that resumes from persisted state sends nothing twice.
#[tokio::test]
async fn policy_and_group_timers_drive_exactly_the_expected_notifications() {
    let (url, r) = receiver().await;
    let w = webhook(json!({"url": url}));
    let route: Route = serde_json::from_value(json!({
        "receiver": "default",
        "group_by": ["alertname"],
        "routes": [{"receiver": "ops-hook", "object_matchers": [["team", "=", "ops"]],
                    "group_wait": "10s", "group_interval": "1m"}]
    }))
    .unwrap();
    let receivers: BTreeSet<String> = ["default", "ops-hook"].map(String::from).into();
    let tree = route.compile(&receivers).unwrap();

    let t0 = 1_767_225_600_000;
    let a = alert("a", None);
    let dest = &tree.route(&a.labels)[0];
    assert_eq!(dest.receiver, "ops-hook");
    let mut g = GroupState::new(
        &dest.receiver,
        &dest.group_key,
        dest.group_labels.clone(),
        dest.timing,
        true,
        t0,
    );
    g.upsert(a);
    assert!(g.plan(t0 + 9_999).is_none());

    // The holder records the flush, sends it, and dies before persisting the commit.
    let persisted = serde_json::to_string(&g).unwrap();
    let flush = g.plan(t0 + 10_000).unwrap();
    let mut log: BTreeSet<String> = BTreeSet::new();
    assert!(log.insert(flush.key.clone()));
    w.notify(
        &Notification::from_flush(&g, &flush, 1, "http://pharos:3000"),
        TIMEOUT,
    )
    .await
    .unwrap();

    // The new holder plans the same flush: the log's unique key says it is already there, so
    // it only resends if it was not marked delivered, with the same idempotency key.
    let mut resumed: GroupState = serde_json::from_str(&persisted).unwrap();
    let again = resumed.plan(t0 + 15_000).unwrap();
    assert!(!log.insert(again.key.clone()), "same log key");
    resumed.commit(&again, t0 + 15_000);

    // The alert resolves; the resolution goes at the next group_interval tick.
    resumed.upsert(alert("a", Some(t0 + 30_000)));
    assert!(resumed.plan(t0 + 69_999).is_none());
    let flush = resumed.plan(t0 + 70_000).unwrap();
    assert!(log.insert(flush.key.clone()));
    w.notify(
        &Notification::from_flush(&resumed, &flush, 1, "http://pharos:3000"),
        TIMEOUT,
    )
    .await
    .unwrap();
    resumed.commit(&flush, t0 + 70_000);
    assert!(resumed.is_empty());

    let seen = r.seen();
    let statuses: Vec<&str> = seen
        .iter()
        .map(|c| c.body["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["firing", "resolved"]);
    assert_ne!(
        seen[0].headers["idempotency-key"],
        seen[1].headers["idempotency-key"]
    );
    assert_eq!(
        seen[1].body["alerts"][0]["endsAt"],
        "2026-01-01T00:00:30.000Z"
    );
}

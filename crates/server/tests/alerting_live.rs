//! Alerting end to end against real peers: a Prometheus scraping a small exporter this test runs
//! (the metric's value is the test's to set), a real Alertmanager, and a webhook receiver this
//! test runs. A rule with `for: 10s` over the metric, in a 10 s group, goes Normal → Pending →
//! Alerting → Normal; the webhook receiver sees exactly one firing and one resolved notification,
//! and Alertmanager the alert with its labels and templated annotations, then resolved.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use pharos_store::{AlertStateHistoryQuery, ContactPointInput, NewAlertRule, Store, StoreOptions};
use pharos_testkit::alertmanager::Alertmanager;
use pharos_testkit::prometheus::{Prometheus, Target};
use pharos_testkit::reqwest::StatusCode;
use pharos_testkit::{Backend, Database, Options, Pharos};
use serde_json::{json, Value};

/// Serves `/metrics` with `pharos_test_load{host="web-1"}` at the value in `value` (f64 bits).
async fn exporter(value: Arc<AtomicU64>) -> String {
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let v = f64::from_bits(value.load(Ordering::Relaxed));
            async move {
                format!("# TYPE pharos_test_load gauge\npharos_test_load{{host=\"web-1\"}} {v}\n")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// A webhook receiver that keeps every body it is sent.
async fn receiver(bodies: Arc<Mutex<Vec<Value>>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let bodies = bodies.clone();
            async move {
                bodies.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/hook")
}

async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn rule() -> String {
    rule_with("10s")
}

fn rule_with(pending: &str) -> String {
    json!({
        "title": "Load high",
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 60, "to": 0}, "datasourceUid": "prom",
             "model": {"expr": "pharos_test_load", "refId": "A", "intervalMs": 1000, "maxDataPoints": 43200}},
            {"refId": "B", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B", "refId": "C",
                       "conditions": [{"evaluator": {"type": "gt", "params": [1]}}]}}
        ],
        "noDataState": "NoData",
        "execErrState": "Error",
        "for": pending,
        "labels": {"severity": "page"},
        "annotations": {
            "summary": "load on {{ $labels.host }} is {{ $values.B.Value }}",
            "description": "{{ $value }}"
        }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_fires_and_resolves_once_at_the_webhook_and_alertmanager() {
    let started = Instant::now();
    let load = Arc::new(AtomicU64::new(5.0f64.to_bits()));
    let target = exporter(load.clone()).await;
    let prometheus = Prometheus::start(
        &[Target {
            job: "load".into(),
            addresses: vec![target],
        }],
        Duration::from_secs(1),
    )
    .await;
    let scraping_since = Instant::now();
    let alertmanager = Alertmanager::start().await;
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(bodies.clone()).await;

    let db = Database::fresh(Backend::Postgres);
    let px = Pharos::start_with(
        db.clone(),
        Options::default().env("PHAROS_LOG_LEVEL", "info,pharos_alerting=debug"),
    )
    .await;
    let (s, body) = px
        .admin()
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "type": "prometheus", "uid": "prom",
                   "url": prometheus.url, "access": "proxy"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = px
        .admin()
        .post(
            "/api/folders",
            json!({"uid": "infra", "title": "Infrastructure"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let store = Store::connect(&StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    for (uid, kind, settings) in [
        ("cp-hook", "webhook", json!({"url": hook})),
        (
            "cp-am",
            "prometheus-alertmanager",
            json!({"url": alertmanager.url}),
        ),
    ] {
        store
            .create_contact_point(
                1,
                &ContactPointInput {
                    uid: uid.into(),
                    name: "oncall".into(),
                    kind: kind.into(),
                    settings: settings.to_string(),
                    secure_settings: BTreeMap::new(),
                    disable_resolve_message: false,
                    provenance: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let tree = json!({
        "receiver": "oncall",
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1s",
        "repeat_interval": "4h",
    });
    store
        .save_notification_policy(1, &tree.to_string(), "", None)
        .await
        .unwrap();
    // The first evaluation may be at the interval's start up to 10 s back: let Prometheus hold
    // samples from before then, or that evaluation has no data (a NoData instance of its own).
    let warm = Duration::from_secs(12).saturating_sub(scraping_since.elapsed());
    tokio::time::sleep(warm).await;
    store
        .create_alert_rule(
            1,
            &NewAlertRule {
                uid: "load-high".into(),
                folder_uid: "infra".into(),
                rule_group: "hosts".into(),
                title: "Load high".into(),
                data: rule(),
                provenance: String::new(),
            },
            10,
        )
        .await
        .unwrap();

    let state = |store: Store| async move {
        store
            .alert_instances(1, "load-high")
            .await
            .unwrap()
            .first()
            .map(|i| i.state.clone())
            .unwrap_or_default()
    };
    wait_for("the rule turns Pending", Duration::from_secs(30), || {
        let store = store.clone();
        async move { state(store).await == "Pending" }
    })
    .await;
    wait_for(
        "the rule turns Alerting and the webhook hears of it",
        Duration::from_secs(30),
        || {
            let bodies = bodies.clone();
            async move { !bodies.lock().unwrap().is_empty() }
        },
    )
    .await;
    assert_eq!(state(store.clone()).await, "Alerting");
    let firing = bodies.lock().unwrap()[0].clone();
    assert_eq!(firing["status"], "firing", "{firing}");
    assert_eq!(firing["receiver"], "oncall");
    let alert = &firing["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "Load high", "{alert}");
    assert_eq!(alert["labels"]["grafana_folder"], "Infrastructure");
    assert_eq!(alert["labels"]["host"], "web-1");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["annotations"]["summary"], "load on web-1 is 5");
    // {{ $value }}: Grafana's evaluation string of the reduce and the threshold.
    let description = alert["annotations"]["description"].as_str().unwrap();
    assert!(
        description.starts_with("[ var='B' labels={")
            && description.contains("host=web-1")
            && description.contains("value=5 ], [ var='C' labels={")
            && description.ends_with("value=1 ]"),
        "{description}"
    );
    assert_eq!(alert["values"]["B"], 5.0);
    assert!(firing["idempotencyKey"].as_str().unwrap().len() == 32);

    wait_for(
        "Alertmanager has the alert",
        Duration::from_secs(10),
        || async {
            alertmanager
                .alerts()
                .await
                .as_array()
                .is_some_and(|a| !a.is_empty())
        },
    )
    .await;
    let am = alertmanager.alerts().await;
    assert_eq!(am.as_array().unwrap().len(), 1, "{am}");
    assert_eq!(am[0]["labels"]["alertname"], "Load high", "{am}");
    assert_eq!(am[0]["labels"]["host"], "web-1");
    assert_eq!(am[0]["annotations"]["summary"], "load on web-1 is 5");
    assert_eq!(am[0]["status"]["state"], "active");

    // The load drops: the next evaluation resolves it.
    load.store(0.5f64.to_bits(), Ordering::Relaxed);
    wait_for(
        "the webhook hears of the resolution",
        Duration::from_secs(30),
        || {
            let bodies = bodies.clone();
            async move { bodies.lock().unwrap().len() >= 2 }
        },
    )
    .await;
    assert_eq!(state(store.clone()).await, "Normal");
    let resolved = bodies.lock().unwrap()[1].clone();
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    let alert = &resolved["alerts"][0];
    assert_eq!(alert["labels"]["host"], "web-1");
    assert_eq!(alert["annotations"]["summary"], "load on web-1 is 0.5");
    assert_ne!(resolved["idempotencyKey"], firing["idempotencyKey"]);
    // Alertmanager drops a resolved alert from its active list.
    wait_for(
        "Alertmanager resolves the alert",
        Duration::from_secs(10),
        || async {
            alertmanager
                .alerts()
                .await
                .as_array()
                .is_some_and(|a| a.is_empty())
        },
    )
    .await;

    // Nothing more: two more evaluations send nothing twice.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        bodies.lock().unwrap().len(),
        2,
        "{:?}",
        bodies.lock().unwrap()
    );
    let history: Vec<(String, String)> = store
        .alert_state_history(
            1,
            &AlertStateHistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|t| (t.from_state, t.to_state))
        .collect();
    assert_eq!(
        history,
        [
            ("Normal".to_string(), "Pending".to_string()),
            ("Pending".to_string(), "Alerting".to_string()),
            ("Alerting".to_string(), "Normal".to_string()),
        ],
        "{}",
        px.logs()
            .iter()
            .filter(|l| l.contains("alert") || l.contains("evaluat"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let log = store.notifications(1, None, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|e| e.status == pharos_store::NotificationStatus::Delivered));
    let (_, text) = px.anonymous().get("/metrics").await;
    let text = text.as_str().unwrap_or_default().to_string();
    let metric = |series: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in /metrics"))
    };
    assert!(metric("pharos_alerting_evaluations_total ") >= 4.0);
    assert_eq!(metric("pharos_alerting_evaluation_failures_total "), 0.0);
    assert_eq!(
        metric("pharos_alerting_notifications_total{outcome=\"delivered\"} "),
        2.0
    );
    assert_eq!(metric("pharos_alerting_instances{state=\"Normal\"} "), 1.0);
    assert_eq!(
        metric("pharos_alerting_instances{state=\"Alerting\"} "),
        0.0
    );
    assert_eq!(metric("pharos_lease_holder{lease=\"alerting\"} "), 1.0);
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "{:?}",
        started.elapsed()
    );
}

/// The id of the replica answering at `px`, and the holder of the alerting lease it sees.
async fn ids(px: &Pharos) -> (String, String) {
    let (_, status) = px.admin().get("/api/cluster").await;
    let me = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["self"] == true)
        .map(|m| m["id"].as_str().unwrap().to_string())
        .unwrap();
    let holder = status["leases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "alerting" && l["held"] == true)
        .map(|l| l["holder"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (me, holder)
}

/// Two replicas; the alerting lease holder is killed (-9) while the rule is Pending: the other
/// takes over within the lease's term, the pending period keeps counting, and the webhook
/// receiver gets the firing and the resolved notification exactly once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_is_replaced_without_duplicate_or_missed_notifications() {
    let load = Arc::new(AtomicU64::new(5.0f64.to_bits()));
    let target = exporter(load.clone()).await;
    let prometheus = Prometheus::start(
        &[Target {
            job: "load".into(),
            addresses: vec![target],
        }],
        Duration::from_secs(1),
    )
    .await;
    let scraping_since = Instant::now();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(bodies.clone()).await;
    let db = Database::fresh(Backend::Postgres);
    let fast = Options::default()
        .env("PHAROS_ALERTING_LEASE_TTL", "3s")
        .env("PHAROS_CLUSTER_LEASE_TTL", "3s");
    let a = Pharos::start_with(db.clone(), fast.clone()).await;
    let b = Pharos::start_with(db.clone(), fast).await;
    let (s, body) = a
        .admin()
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "type": "prometheus", "uid": "prom",
                   "url": prometheus.url, "access": "proxy"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = a
        .admin()
        .post(
            "/api/folders",
            json!({"uid": "infra", "title": "Infrastructure"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let store = Store::connect(&StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    store
        .create_contact_point(
            1,
            &ContactPointInput {
                uid: "cp-hook".into(),
                name: "oncall".into(),
                kind: "webhook".into(),
                settings: json!({"url": hook}).to_string(),
                secure_settings: BTreeMap::new(),
                disable_resolve_message: false,
                provenance: String::new(),
            },
        )
        .await
        .unwrap();
    let tree = json!({"receiver": "oncall", "group_by": ["alertname"], "group_wait": "0s",
                      "group_interval": "1s", "repeat_interval": "4h"});
    store
        .save_notification_policy(1, &tree.to_string(), "", None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(scraping_since.elapsed())).await;
    store
        .create_alert_rule(
            1,
            &NewAlertRule {
                uid: "load-high".into(),
                folder_uid: "infra".into(),
                rule_group: "hosts".into(),
                title: "Load high".into(),
                data: rule_with("20s"),
                provenance: String::new(),
            },
            10,
        )
        .await
        .unwrap();
    let state = |store: Store| async move {
        store
            .alert_instances(1, "load-high")
            .await
            .unwrap()
            .first()
            .map(|i| i.state.clone())
            .unwrap_or_default()
    };
    wait_for("the rule turns Pending", Duration::from_secs(30), || {
        let store = store.clone();
        async move { state(store).await == "Pending" }
    })
    .await;
    let (a_id, holder) = ids(&a).await;
    let (b_id, _) = ids(&b).await;
    assert!(holder == a_id || holder == b_id, "holder {holder:?}");
    // kill -9 the holder (dropping a Pharos kills it).
    let survivor = if holder == a_id {
        drop(a);
        b
    } else {
        drop(b);
        a
    };
    let killed_at = Instant::now();
    wait_for(
        "the survivor holds the lease",
        Duration::from_secs(10),
        || async {
            let (me, holder) = ids(&survivor).await;
            me == holder
        },
    )
    .await;
    println!(
        "alerting lease taken over {:?} after the kill",
        killed_at.elapsed()
    );
    wait_for("the firing notification", Duration::from_secs(40), || {
        let bodies = bodies.clone();
        async move { !bodies.lock().unwrap().is_empty() }
    })
    .await;
    load.store(0.5f64.to_bits(), Ordering::Relaxed);
    wait_for("the resolved notification", Duration::from_secs(30), || {
        let bodies = bodies.clone();
        async move { bodies.lock().unwrap().len() >= 2 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let statuses: Vec<Value> = bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| b["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("firing"), json!("resolved")]);
    let history: Vec<(String, String)> = store
        .alert_state_history(
            1,
            &AlertStateHistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|t| (t.from_state, t.to_state))
        .collect();
    assert_eq!(
        history,
        [
            ("Normal".to_string(), "Pending".to_string()),
            ("Pending".to_string(), "Alerting".to_string()),
            ("Alerting".to_string(), "Normal".to_string()),
        ]
    );
}

//! Alerting end to end against real peers: a Prometheus scraping a small exporter this test runs
//! (the metric's value is the test's to set), a real Alertmanager, and a webhook receiver this
//! test runs. A rule with `for: 10s` over the metric, in a 10 s group, goes Normal → Pending →
//! Alerting → Normal; the webhook receiver sees exactly one firing and one resolved notification,
//! and Alertmanager the alert with its labels and templated annotations, then resolved.
//!
//! Killing lease holders while rules are Pending and Alerting is `alerting_ha.rs`'s.

use std::time::{Duration, Instant};

use pharos_store::{AlertStateHistoryQuery, NewAlertRule, Store, StoreOptions};
use pharos_testkit::alerting::{
    metric, notify_through, prometheus_datasource_and_folder, threshold_rule, wait_for, Exporter,
    WebhookReceiver,
};
use pharos_testkit::alertmanager::Alertmanager;
use pharos_testkit::{Backend, Database, Options, Pharos};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_fires_and_resolves_once_at_the_webhook_and_alertmanager() {
    let started = Instant::now();
    let exporter = Exporter::start("pharos_test_load").await;
    exporter.set("host=\"web-1\"", 5.0);
    let prometheus = exporter.scraped().await;
    let scraping_since = Instant::now();
    let alertmanager = Alertmanager::start().await;
    let receiver = WebhookReceiver::start().await;

    let db = Database::fresh(Backend::Postgres);
    let px = Pharos::start_with(
        db.clone(),
        Options::default().env("PHAROS_LOG_LEVEL", "info,pharos_alerting=debug"),
    )
    .await;
    let admin = px.admin();
    prometheus_datasource_and_folder(&admin, &prometheus.url).await;
    notify_through(
        &admin,
        "oncall",
        &[
            ("webhook", json!({"url": receiver.url})),
            ("prometheus-alertmanager", json!({"url": alertmanager.url})),
        ],
    )
    .await;
    let store = Store::connect(&StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    // The first evaluation may be at the interval's start up to 10 s back: let Prometheus hold
    // samples from before then, or that evaluation has no data (a NoData instance of its own).
    let warm = Duration::from_secs(12).saturating_sub(scraping_since.elapsed());
    tokio::time::sleep(warm).await;
    let rule = threshold_rule(
        "Load high",
        "pharos_test_load",
        1.0,
        "10s",
        json!({"severity": "page"}),
        json!({
            "summary": "load on {{ $labels.host }} is {{ $values.B.Value }}",
            "description": "{{ $value }}"
        }),
    );
    store
        .create_alert_rule(
            1,
            &NewAlertRule {
                uid: "load-high".into(),
                folder_uid: "infra".into(),
                rule_group: "hosts".into(),
                title: "Load high".into(),
                data: rule.to_string(),
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
        || async { receiver.count() > 0 },
    )
    .await;
    assert_eq!(state(store.clone()).await, "Alerting");
    let firing = receiver.bodies()[0].clone();
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
    exporter.set("host=\"web-1\"", 0.5);
    wait_for(
        "the webhook hears of the resolution",
        Duration::from_secs(30),
        || async { receiver.count() >= 2 },
    )
    .await;
    assert_eq!(state(store.clone()).await, "Normal");
    let resolved = receiver.bodies()[1].clone();
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
    assert_eq!(receiver.count(), 2, "{:?}", receiver.bodies());
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
    let value = |series: &'static str| metric(&px, series);
    assert!(value("pharos_alerting_evaluations_total").await >= Some(4.0));
    assert_eq!(
        value("pharos_alerting_evaluation_failures_total").await,
        Some(0.0)
    );
    assert_eq!(
        value("pharos_alerting_notifications_total{outcome=\"delivered\"}").await,
        Some(2.0)
    );
    assert_eq!(
        value("pharos_alerting_instances{state=\"Normal\"}").await,
        Some(1.0)
    );
    assert_eq!(
        value("pharos_alerting_instances{state=\"Alerting\"}").await,
        Some(0.0)
    );
    assert_eq!(
        value("pharos_lease_holder{lease=\"alerting\"}").await,
        Some(1.0)
    );
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "{:?}",
        started.elapsed()
    );
}

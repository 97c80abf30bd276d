//! The Alertmanager notifier against real Alertmanagers (Debian `prometheus-alertmanager`, run
//! by the testkit): the alerts arrive with their labels, annotations, times and generator URL,
//! reach every configured Alertmanager, a resolution ends them, and a dead Alertmanager among
//! live ones does not fail the notification while a dead one alone does (retryably). Basic auth
//! is checked against an Alertmanager that requires it.

use std::collections::BTreeMap;
use std::time::Duration;

use pharos_alerting::group::Alert;
use pharos_alerting::notify::{AlertmanagerNotifier, AlertmanagerSettings, Notification, Notifier};
use pharos_testkit::alertmanager::Alertmanager;
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(10);

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn alert(instance: &str, starts_at: i64, ends_at: Option<i64>) -> Alert {
    Alert {
        labels: BTreeMap::from([
            ("alertname".to_string(), "DiskFull".to_string()),
            ("instance".to_string(), instance.to_string()),
            ("grafana_folder".to_string(), "Ops".to_string()),
        ]),
        annotations: BTreeMap::from([("summary".to_string(), format!("disk full on {instance}"))]),
        starts_at,
        ends_at,
        generator_url: "http://pharos:3000/alerting/grafana/disk/view".into(),
        values: BTreeMap::new(),
        value_string: String::new(),
    }
}

fn notification(alerts: Vec<Alert>) -> Notification {
    Notification {
        log_key: "am/{}:{alertname=\"DiskFull\"}/1".into(),
        receiver: "am".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: BTreeMap::from([("alertname".to_string(), "DiskFull".to_string())]),
        alerts,
        org_id: 1,
        external_url: "http://pharos:3000".into(),
    }
}

fn notifier(urls: &[&str]) -> AlertmanagerNotifier {
    AlertmanagerNotifier::new(AlertmanagerSettings {
        url: urls.join(","),
        ..Default::default()
    })
    .unwrap()
}

/// The active alerts of `am` by instance label.
async fn active(am: &Alertmanager) -> BTreeMap<String, Value> {
    let alerts = am.alerts().await;
    alerts
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {alerts}"))
        .iter()
        .filter(|a| a["status"]["state"] == "active")
        .map(|a| {
            (
                a["labels"]["instance"].as_str().unwrap().to_string(),
                a.clone(),
            )
        })
        .collect()
}

fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn alerts_reach_every_alertmanager_with_labels_and_annotations() {
    let (am1, am2) = tokio::join!(Alertmanager::start(), Alertmanager::start());
    let start = now_ms() - 60_000;
    let n = notifier(&[&am1.url, &am2.url]);
    n.notify(
        &notification(vec![
            alert("a:9100", start, None),
            alert("b:9100", start, None),
        ]),
        TIMEOUT,
    )
    .await
    .unwrap();

    for am in [&am1, &am2] {
        let alerts = active(am).await;
        assert_eq!(alerts.len(), 2, "{alerts:?}\n{}", am.log());
        let a = &alerts["a:9100"];
        assert_eq!(a["labels"]["alertname"], "DiskFull");
        assert_eq!(a["labels"]["grafana_folder"], "Ops");
        assert_eq!(a["annotations"]["summary"], "disk full on a:9100");
        assert_eq!(
            a["generatorURL"],
            "http://pharos:3000/alerting/grafana/disk/view"
        );
        let starts = pharos_alerting::rfc3339::parse_ms(a["startsAt"].as_str().unwrap());
        assert_eq!(starts, Some(start));
        assert_eq!(
            alerts["b:9100"]["annotations"]["summary"],
            "disk full on b:9100"
        );
    }

    // b resolves: Alertmanager no longer lists it as active; a still fires.
    n.notify(
        &notification(vec![
            alert("a:9100", start, None),
            alert("b:9100", start, Some(now_ms() - 1000)),
        ]),
        TIMEOUT,
    )
    .await
    .unwrap();
    for am in [&am1, &am2] {
        let alerts = active(am).await;
        assert_eq!(
            alerts.keys().collect::<Vec<_>>(),
            ["a:9100"],
            "{}",
            am.log()
        );
    }
}

#[tokio::test]
async fn one_live_alertmanager_is_enough_and_none_is_a_retryable_error() {
    let am = Alertmanager::start().await;
    let dead = dead_url();
    let start = now_ms() - 1000;
    notifier(&[&dead, &am.url])
        .notify(&notification(vec![alert("c:9100", start, None)]), TIMEOUT)
        .await
        .unwrap();
    assert!(active(&am).await.contains_key("c:9100"));

    let err = notifier(&[&dead])
        .notify(&notification(vec![alert("c:9100", start, None)]), TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");

    // Alertmanager refuses an alert without labels with a 400: permanent.
    let mut bad = alert("d", start, None);
    bad.labels.clear();
    let err = notifier(&[&am.url])
        .notify(&notification(vec![bad]), TIMEOUT)
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("400"), "{err}");
}

/// bcrypt (cost 4) of "s3cret", for Alertmanager's web config.
const S3CRET_BCRYPT: &str = "$2b$04$Kn5bhJohWt/DGZ6C7FWeK.ewP1Qih9ql0t8PlhFgBi6aA6j5XdmU6";

#[tokio::test]
async fn basic_auth_is_sent_and_a_wrong_password_is_permanent() {
    let am = Alertmanager::start_with_basic_auth(Some(("pharos", "s3cret", S3CRET_BCRYPT))).await;
    let with = |password: &str| {
        AlertmanagerNotifier::new(AlertmanagerSettings {
            url: am.url.clone(),
            basic_auth_user: Some("pharos".into()),
            basic_auth_password: Some(password.into()),
        })
        .unwrap()
    };
    let start = now_ms() - 1000;
    with("s3cret")
        .notify(&notification(vec![alert("e:9100", start, None)]), TIMEOUT)
        .await
        .unwrap();
    assert!(active(&am).await.contains_key("e:9100"), "{}", am.log());
    let err = with("wrong")
        .notify(&notification(vec![alert("f:9100", start, None)]), TIMEOUT)
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("401"), "{err}");
    let err = notifier(&[&am.url])
        .notify(&notification(vec![alert("f:9100", start, None)]), TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.message.contains("401"), "{err}");
    assert!(!active(&am).await.contains_key("f:9100"));
}

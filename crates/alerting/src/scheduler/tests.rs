//! The scheduler against a real store (SQLite in a scratch file), a fake querier whose answer the
//! test sets, and fake notifiers that record what they were sent and can fail.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pharos_store::{
    AlertStateHistoryQuery, ContactPoint, ContactPointInput, Lease, NewAlertRule,
    NotificationStatus, Store, StoreOptions, ALERTING_LEASE,
};
use serde_json::json;

use super::*;
use crate::expr::{Data, Series};
use crate::notify::{BoxFuture, Notification, Notifier, NotifyError};

const ORG: i64 = 1;
const TEN: i64 = 10_000;

/// What the fake datasource answers: a value, nothing, or an error.
#[derive(Clone)]
enum Answer {
    Value(f64),
    /// The value, two seconds late.
    Slow(f64),
    Empty,
    Fail,
}

struct FakeQuerier(Mutex<Answer>);

impl FakeQuerier {
    fn set(&self, a: Answer) {
        *self.0.lock().unwrap() = a;
    }
}

impl RuleQuerier for FakeQuerier {
    fn query<'a>(
        &'a self,
        _org: i64,
        _query: &'a AlertQuery,
        _at: i64,
        _timeout: Duration,
    ) -> BoxFuture<'a, QueryResult> {
        let answer = self.0.lock().unwrap().clone();
        Box::pin(async move {
            let answer = match answer {
                Answer::Slow(v) => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Answer::Value(v)
                }
                other => other,
            };
            match answer {
                Answer::Slow(_) => unreachable!(),
                Answer::Value(v) => Ok(Data::series(vec![Series {
                    labels: [("host".to_string(), "web-1".to_string())].into(),
                    points: vec![(0, Some(v))],
                }])),
                Answer::Empty => Ok(Data::series(vec![])),
                Answer::Fail => Err("connection refused".into()),
            }
        })
    }
}

/// (contact point, status, alertnames and hosts, summary annotations)
type Sent = (String, String, Vec<String>);

#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<Sent>>,
    /// Contact point name → how many more sends fail (retryably).
    failures: Mutex<HashMap<String, u64>>,
    /// Contact point name → hangs past the timeout while failures remain.
    attempts: AtomicU64,
}

struct FakeNotifier {
    name: String,
    outbox: Arc<Outbox>,
}

impl Notifier for FakeNotifier {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            self.outbox.attempts.fetch_add(1, Ordering::Relaxed);
            let fail = {
                let mut f = self.outbox.failures.lock().unwrap();
                match f.get_mut(&self.name) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        true
                    }
                    _ => false,
                }
            };
            if fail {
                // A dead receiver: hangs until the notifier's timeout cuts it off.
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            let alerts = n
                .alerts
                .iter()
                .map(|a| {
                    format!(
                        "{}|{}|{}",
                        a.labels.get("host").cloned().unwrap_or_default(),
                        a.annotations.get("summary").cloned().unwrap_or_default(),
                        a.ends_at.is_some()
                    )
                })
                .collect();
            self.outbox.sent.lock().unwrap().push((
                self.name.clone(),
                n.status().to_string(),
                alerts,
            ));
            Ok(())
        })
    }
}

struct FakeFactory(Arc<Outbox>);

impl NotifierFactory for FakeFactory {
    fn notifier(&self, cp: &ContactPoint) -> Result<Box<dyn Notifier>, String> {
        Ok(Box::new(FakeNotifier {
            name: cp.name.clone(),
            outbox: self.0.clone(),
        }))
    }
}

#[derive(Default)]
struct Counting {
    evaluations: AtomicU64,
    failures: AtomicU64,
    outcomes: Mutex<Vec<&'static str>>,
}

impl SchedulerMetrics for Counting {
    fn evaluation(&self, _d: Duration, failed: bool) {
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn notification(&self, outcome: &'static str) {
        self.outcomes.lock().unwrap().push(outcome);
    }
}

struct World {
    store: Store,
    querier: Arc<FakeQuerier>,
    outbox: Arc<Outbox>,
    metrics: Arc<Counting>,
    /// An aligned start time (a multiple of 10 s).
    t0: i64,
    _dir: Scratch,
}

struct Scratch(std::path::PathBuf);
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rule_json(title: &str, pending: &str) -> String {
    json!({
        "title": title,
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "prom",
             "model": {"expr": "load", "refId": "A"}},
            {"refId": "B", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "math", "expression": "$B > 1", "refId": "C"}}
        ],
        "noDataState": "NoData",
        "execErrState": "Error",
        "for": pending,
        "labels": {"severity": "page"},
        "annotations": {"summary": "load on {{ $labels.host }} is {{ $values.B.Value }}"}
    })
    .to_string()
}

async fn world(pending: &str, receivers: &[&str]) -> World {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pharos-scheduler-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&StoreOptions {
        url: format!("sqlite://{}", dir.join("db.sqlite").display()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
        .create_folder(ORG, Some("infra"), "Infrastructure", "test")
        .await
        .unwrap();
    store
        .create_alert_rule(
            ORG,
            &NewAlertRule {
                uid: "load-high".into(),
                folder_uid: "infra".into(),
                rule_group: "hosts".into(),
                title: "Load high".into(),
                data: rule_json("Load high", pending),
                provenance: String::new(),
            },
            10,
        )
        .await
        .unwrap();
    for name in receivers {
        store
            .create_contact_point(
                ORG,
                &ContactPointInput {
                    uid: format!("cp-{name}"),
                    name: name.to_string(),
                    kind: "webhook".into(),
                    settings: json!({"url": format!("http://{name}.invalid/")}).to_string(),
                    secure_settings: BTreeMap::new(),
                    disable_resolve_message: false,
                    provenance: String::new(),
                },
            )
            .await
            .unwrap();
    }
    // Each receiver on a child route that continues (the root is only the fallback).
    let children: Vec<_> = receivers
        .iter()
        .map(|r| json!({"receiver": r, "object_matchers": [["severity", "=", "page"]], "continue": true}))
        .collect();
    let tree = json!({
        "receiver": receivers[0],
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "10s",
        "repeat_interval": "4h",
        "routes": children,
    });
    store
        .save_notification_policy(ORG, &tree.to_string(), "", None)
        .await
        .unwrap();
    let now = pharos_store::now_ms();
    World {
        store,
        querier: Arc::new(FakeQuerier(Mutex::new(Answer::Value(0.0)))),
        outbox: Arc::new(Outbox::default()),
        metrics: Arc::new(Counting::default()),
        t0: now - now % TEN,
        _dir: Scratch(dir),
    }
}

impl World {
    async fn holder(&self, name: &str) -> Scheduler {
        let lease = self
            .store
            .acquire_lease(ALERTING_LEASE, name, 60_000)
            .await
            .unwrap()
            .expect("lease free");
        self.scheduler(lease)
    }

    fn scheduler(&self, lease: Lease) -> Scheduler {
        Scheduler::new(
            self.store.clone(),
            lease,
            self.querier.clone(),
            Arc::new(FakeFactory(self.outbox.clone())),
            self.metrics.clone(),
            SchedulerSettings {
                notify_timeout: Duration::from_millis(300),
                ..SchedulerSettings::default()
            },
        )
    }

    fn sent(&self) -> Vec<Sent> {
        self.outbox.sent.lock().unwrap().clone()
    }

    async fn state(&self) -> Vec<String> {
        self.store
            .alert_instances(ORG, "load-high")
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.state)
            .collect()
    }

    async fn history(&self) -> Vec<(String, String, i64)> {
        let mut h: Vec<_> = self
            .store
            .alert_state_history(
                ORG,
                &AlertStateHistoryQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.from_state, t.to_state, (t.at - self.t0) / TEN))
            .collect();
        h.reverse();
        h
    }
}

async fn tick(s: &mut Scheduler, at: i64) {
    s.tick(at).await.unwrap();
    s.settle().await;
}

#[tokio::test]
async fn normal_pending_alerting_normal_notifies_firing_once_then_resolved() {
    let w = world("20s", &["oncall"]).await;
    let mut s = w.holder("replica-a").await;
    let t = w.t0;
    w.querier.set(Answer::Value(0.5));
    tick(&mut s, t).await;
    assert_eq!(w.state().await, ["Normal"]);
    w.querier.set(Answer::Value(5.0));
    tick(&mut s, t + TEN).await;
    assert_eq!(w.state().await, ["Pending"]);
    // A second tick within the same interval evaluates nothing.
    tick(&mut s, t + TEN + 3_000).await;
    tick(&mut s, t + 2 * TEN).await;
    assert_eq!(w.state().await, ["Pending"], "for 20s has not passed");
    assert!(w.sent().is_empty(), "Pending notifies nothing");
    tick(&mut s, t + 3 * TEN).await;
    assert_eq!(w.state().await, ["Alerting"]);
    tick(&mut s, t + 4 * TEN).await;
    w.querier.set(Answer::Value(0.2));
    tick(&mut s, t + 5 * TEN).await;
    assert_eq!(w.state().await, ["Normal"]);
    tick(&mut s, t + 6 * TEN).await;
    assert_eq!(
        w.sent(),
        vec![
            (
                "oncall".to_string(),
                "firing".to_string(),
                vec!["web-1|load on web-1 is 5|false".to_string()]
            ),
            (
                "oncall".to_string(),
                "resolved".to_string(),
                // A resolved alert carries the annotations of the evaluation that resolved it.
                vec!["web-1|load on web-1 is 0.2|true".to_string()]
            ),
        ]
    );
    assert_eq!(
        w.history().await,
        vec![
            ("Normal".into(), "Pending".into(), 1),
            ("Pending".into(), "Alerting".into(), 3),
            ("Alerting".into(), "Normal".into(), 5),
        ]
    );
    assert_eq!(w.metrics.evaluations.load(Ordering::Relaxed), 7);
    assert_eq!(
        *w.metrics.outcomes.lock().unwrap(),
        ["delivered", "delivered"]
    );
    let log = w.store.notifications(ORG, None, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|e| e.status == NotificationStatus::Delivered));
}

#[tokio::test]
async fn errors_and_no_data_reach_their_states_and_notify() {
    let w = world("0s", &["oncall"]).await;
    let mut s = w.holder("replica-a").await;
    let t = w.t0;
    w.querier.set(Answer::Fail);
    tick(&mut s, t).await;
    assert_eq!(w.state().await, ["Error"]);
    assert_eq!(w.metrics.failures.load(Ordering::Relaxed), 1);
    w.querier.set(Answer::Empty);
    tick(&mut s, t + TEN).await;
    assert_eq!(w.state().await, ["NoData"]);
    w.querier.set(Answer::Value(0.0));
    tick(&mut s, t + 2 * TEN).await;
    tick(&mut s, t + 3 * TEN).await;
    let moves: Vec<(String, String)> = w
        .history()
        .await
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect();
    assert_eq!(moves[0], ("Normal".into(), "Error".into()));
    assert_eq!(moves[1], ("Error".into(), "NoData".into()));
    assert!(moves.len() >= 3, "{moves:?}");
    let sent = w.sent();
    assert_eq!(sent[0].1, "firing", "{sent:?}");
    // The error and no-data states are one firing alert (no re-notification between them,
    // repeat_interval 4h); the return to Normal resolves it.
    assert_eq!(sent.last().unwrap().1, "resolved", "{sent:?}");
    assert_eq!(sent.len(), 2, "{sent:?}");
}

#[tokio::test]
async fn a_new_holder_resumes_without_duplicates_and_keeps_the_pending_period() {
    let w = world("10s", &["oncall"]).await;
    let t = w.t0;
    w.querier.set(Answer::Value(5.0));
    let mut a = w.holder("replica-a").await;
    tick(&mut a, t).await;
    assert_eq!(w.state().await, ["Pending"]);
    // Replica A dies; B starts with no memory, and the pending period keeps counting from t.
    let lease_a = a.lease.clone();
    drop(a);
    assert!(w.store.release_lease(&lease_a).await.unwrap());
    let mut b = w.holder("replica-b").await;
    // B records the firing notification, then dies before sending it.
    b.evaluate_and_flush(t + TEN).await.unwrap();
    assert_eq!(w.state().await, ["Alerting"]);
    assert!(w.sent().is_empty());
    let lease_b = b.lease.clone();
    drop(b);
    // B's term is over: a write under it is refused.
    assert!(w.store.release_lease(&lease_b).await.unwrap());
    let mut stale = w.scheduler(lease_b);
    assert_eq!(stale.evaluate_and_flush(t + 2 * TEN).await, Err(LeaseLost));
    // C re-runs the tick B finished and the next ones: the recorded notification goes out once.
    let mut c = w.holder("replica-c").await;
    tick(&mut c, t + TEN).await;
    tick(&mut c, t + 2 * TEN).await;
    tick(&mut c, t + 3 * TEN).await;
    assert_eq!(
        w.sent(),
        vec![(
            "oncall".to_string(),
            "firing".to_string(),
            vec!["web-1|load on web-1 is 5|false".to_string()]
        )]
    );
    assert_eq!(
        w.history().await,
        vec![
            ("Normal".into(), "Pending".into(), 0),
            ("Pending".into(), "Alerting".into(), 1),
        ]
    );
}

#[tokio::test]
async fn a_dead_receiver_is_retried_while_another_is_delivered() {
    let w = world("0s", &["good", "bad"]).await;
    w.outbox.failures.lock().unwrap().insert("bad".into(), 1);
    let t = w.t0;
    w.querier.set(Answer::Value(5.0));
    let mut s = w.holder("replica-a").await;
    let started = std::time::Instant::now();
    tick(&mut s, t).await;
    // The dead receiver hung until its 300 ms timeout; the good one was not held up by it.
    assert!(started.elapsed() < Duration::from_secs(5));
    let names: Vec<String> = w.sent().into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["good"]);
    let log = w.store.notifications(ORG, None, 10).await.unwrap();
    let bad = log.iter().find(|e| e.receiver == "bad").unwrap();
    assert_eq!(bad.status, NotificationStatus::Pending);
    assert!(bad.last_error.contains("no answer"), "{}", bad.last_error);
    // retry_delay(key, 1) is at most 1 s.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    tick(&mut s, t + 1_000).await;
    let names: Vec<String> = w.sent().into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["good", "bad"]);
    let log = w.store.notifications(ORG, None, 10).await.unwrap();
    assert!(log
        .iter()
        .all(|e| e.status == NotificationStatus::Delivered));
    assert_eq!(
        *w.metrics.outcomes.lock().unwrap(),
        ["delivered", "retry", "delivered"]
    );
}

#[tokio::test]
async fn a_slow_datasource_does_not_hold_up_the_tick() {
    let w = world("0s", &["oncall"]).await;
    let t = w.t0;
    w.querier.set(Answer::Slow(5.0));
    let mut s = w.holder("replica-a").await;
    let started = std::time::Instant::now();
    tick(&mut s, t).await;
    // The tick waited at most about one tick (1 s) for the 2 s query.
    assert!(
        started.elapsed() < Duration::from_millis(1_800),
        "{:?}",
        started.elapsed()
    );
    assert!(w.state().await.is_empty(), "not applied yet");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // A later tick in the same interval starts nothing new and applies the finished one.
    tick(&mut s, t + 3_000).await;
    assert_eq!(w.state().await, ["Alerting"]);
    assert_eq!(w.sent().len(), 1);
    assert_eq!(w.metrics.evaluations.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_silenced_alert_is_not_sent_until_the_silence_ends() {
    let w = world("0s", &["oncall"]).await;
    let t = w.t0;
    w.store
        .save_silence(
            ORG,
            &pharos_store::SilenceInput {
                id: None,
                matchers:
                    json!([{"name": "host", "value": "web-1", "isRegex": false, "isEqual": true}])
                        .to_string(),
                starts_at: t - 60_000,
                ends_at: t + 25_000,
                comment: "maintenance".into(),
                created_by: "test".into(),
            },
        )
        .await
        .unwrap();
    w.querier.set(Answer::Value(5.0));
    let mut s = w.holder("replica-a").await;
    for k in 0..3 {
        tick(&mut s, t + k * TEN).await;
    }
    assert_eq!(
        w.state().await,
        ["Alerting"],
        "silences mute, they do not stop evaluation"
    );
    assert!(w.sent().is_empty(), "{:?}", w.sent());
    tick(&mut s, t + 3 * TEN).await;
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1, "firing");
}

#[tokio::test]
async fn deleting_a_firing_rule_resolves_its_alerts_once() {
    let w = world("0s", &["oncall"]).await;
    let t = w.t0;
    w.querier.set(Answer::Value(5.0));
    let mut s = w.holder("replica-a").await;
    tick(&mut s, t).await;
    assert_eq!(w.state().await, ["Alerting"]);
    w.store.delete_alert_rule(ORG, "load-high").await.unwrap();
    s.reload_now();
    tick(&mut s, t + TEN).await;
    tick(&mut s, t + 2 * TEN).await;
    s.reload_now();
    tick(&mut s, t + 3 * TEN).await;
    let statuses: Vec<String> = w.sent().into_iter().map(|s| s.1).collect();
    assert_eq!(statuses, ["firing", "resolved"]);
}

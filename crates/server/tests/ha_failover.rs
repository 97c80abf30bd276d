//! The failover test: a PostgreSQL server of the test's own, three replicas on loopback and Debian's
//! HAProxy running the deploy kit's `deploy/haproxy/haproxy.cfg`. A bounded load client sends mixed
//! traffic through HAProxy for about a minute — dashboard reads and searches, saves with version
//! checks and an `Idempotency-Key`, logins, `/api/ds/query` on TestData — while
//!
//! 1. one replica is killed with -9 and started again,
//! 2. all three are restarted in turn with SIGTERM (a rolling deploy),
//! 3. PostgreSQL is stopped for 5 s and started again.
//!
//! It asserts (and prints): no acknowledged save lost or applied twice; no failed request while
//! steady, during the kill and during the rolling restart; only 503s with a JSON message during the
//! outage, no replica exiting, every replica ready again within 5 s of the database; and the p99 of
//! cross-replica staleness (a save through one replica until another serves it) at most 1 s.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pharos_testkit::ha::HaCluster;
use pharos_testkit::haproxy::Haproxy;
use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Steady,
    Kill9,
    Rolling,
    /// PostgreSQL stopped.
    DbDown,
    /// PostgreSQL started again, until every replica is ready and back in HAProxy's rotation.
    DbBack,
    Recovered,
}

const PHASES: [Phase; 6] = [
    Phase::Steady,
    Phase::Kill9,
    Phase::Rolling,
    Phase::DbDown,
    Phase::DbBack,
    Phase::Recovered,
];

/// Phases where a 503 with a JSON message is the allowed answer (the database is away).
fn outage(phase: Phase) -> bool {
    matches!(phase, Phase::DbDown | Phase::DbBack)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Read,
    Search,
    Save,
    Login,
    Query,
}

/// What one request came to.
enum Outcome {
    Ok,
    /// 503 with a JSON body carrying a message: the answer a database outage is allowed to give.
    Unavailable(String),
    Failed(String),
}

#[derive(Default)]
struct Tally {
    ok: u64,
    unavailable: u64,
    failed: u64,
    examples: Vec<String>,
    /// Every request's latency, for the report's p99 and maximum.
    latencies: Vec<Duration>,
}

/// Shared by the load tasks and the conductor.
struct Load {
    phase: AtomicU8,
    stop: AtomicBool,
    tallies: Mutex<BTreeMap<(Phase, Kind), Tally>>,
    lb: String,
    token: String,
    http: reqwest::Client,
}

impl Load {
    fn phase(&self) -> Phase {
        PHASES[self.phase.load(Ordering::SeqCst) as usize]
    }

    fn set_phase(&self, phase: Phase) {
        let index = PHASES.iter().position(|p| *p == phase).unwrap();
        self.phase.store(index as u8, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Counts a request that began in `started_in`. It belongs to the latest phase it lived in
    /// (phases only move forward): a request begun just before PostgreSQL stops and answered 503
    /// during the outage counts as the outage's.
    fn record(&self, started_in: Phase, kind: Kind, (outcome, took): (Outcome, Duration)) {
        let phase = started_in.max(self.phase());
        let mut tallies = self.tallies.lock().unwrap();
        let tally = tallies.entry((phase, kind)).or_default();
        tally.latencies.push(took);
        match outcome {
            Outcome::Ok => tally.ok += 1,
            Outcome::Unavailable(why) => {
                tally.unavailable += 1;
                if tally.examples.len() < 5 {
                    tally.examples.push(why);
                }
            }
            Outcome::Failed(why) => {
                tally.failed += 1;
                if tally.examples.len() < 5 {
                    tally.examples.push(why);
                }
            }
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.lb))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(15))
    }
}

/// Sends a request and judges the answer: `expected` is success, a 503 with a JSON message is
/// "unavailable", anything else (another status, a body that is not JSON, no answer) failed.
async fn judge(
    rb: reqwest::RequestBuilder,
    expected: StatusCode,
) -> ((Outcome, Duration), Option<Value>) {
    let started = Instant::now();
    let response = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            let outcome = Outcome::Failed(format!("no answer: {e}"));
            return ((outcome, started.elapsed()), None);
        }
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body: Option<Value> = serde_json::from_str(&text).ok();
    let outcome = if status == expected && body.is_some() {
        Outcome::Ok
    } else if let Some(message) = body
        .as_ref()
        .and_then(|b| b["message"].as_str())
        .filter(|m| status == StatusCode::SERVICE_UNAVAILABLE && !m.is_empty())
    {
        Outcome::Unavailable(format!("503: {message}"))
    } else {
        let short: String = text.chars().take(160).collect();
        Outcome::Failed(format!("{status}: {short}"))
    };
    ((outcome, started.elapsed()), body)
}

/// A dashboard one writer owns: the version and count of saves it was told succeeded.
#[derive(Clone, Debug)]
struct Owned {
    uid: String,
    version: i64,
    acked: i64,
}

fn dashboard_body(d: &Owned, counter: i64) -> Value {
    json!({
        "dashboard": {
            "uid": d.uid,
            "title": format!("HA {}", d.uid),
            "tags": ["ha"],
            "version": d.version,
            "pharosTestCounter": counter,
            "panels": [],
        },
        "overwrite": false,
    })
}

/// A key no other request of this run uses.
fn random_key() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "ha-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Saves its dashboards in turn, each save with the version it last saw acknowledged and a fresh
/// `Idempotency-Key`, repeated with the same key until a definitive answer. A 200 must carry the
/// next version (a save applied twice would skip one).
async fn writer(load: Arc<Load>, mut owned: Vec<Owned>) -> Vec<Owned> {
    let mut turn = 0usize;
    while !load.stopped() {
        let count = owned.len();
        let d = &mut owned[turn % count];
        turn += 1;
        let key = random_key();
        let body = dashboard_body(d, d.acked + 1);
        // Repeats of one save stop 20 s after the load does: enough for any retry to settle.
        let give_up = Instant::now() + Duration::from_secs(80);
        loop {
            let phase = load.phase();
            let rb = load
                .request(reqwest::Method::POST, "/api/dashboards/db")
                .header("Idempotency-Key", &key)
                .json(&body);
            let ((outcome, took), answer) = judge(rb, StatusCode::OK).await;
            match outcome {
                Outcome::Ok => {
                    let version = answer.as_ref().and_then(|a| a["version"].as_i64());
                    if version == Some(d.version + 1) {
                        d.version += 1;
                        d.acked += 1;
                        load.record(phase, Kind::Save, (Outcome::Ok, took));
                    } else {
                        let why = format!(
                            "{}: saved as version {version:?}, expected {}",
                            d.uid,
                            d.version + 1
                        );
                        load.record(phase, Kind::Save, (Outcome::Failed(why), took));
                        // Follow the server so later saves are judged on their own.
                        if let Some(v) = version {
                            d.version = v;
                        }
                        d.acked += 1;
                    }
                    break;
                }
                other => {
                    let conflict = matches!(&other, Outcome::Failed(why) if why.starts_with("412"));
                    if !conflict {
                        load.record(phase, Kind::Save, (other, took));
                    } else {
                        // The stored version moved without an acknowledgement to this writer: a
                        // failure, whether or not this save was applied (a retry of a save whose
                        // first attempt committed must be answered with that attempt's version).
                        // Follow the stored version so the writer goes on.
                        let (_, current) = judge(
                            load.request(
                                reqwest::Method::GET,
                                &format!("/api/dashboards/uid/{}", d.uid),
                            ),
                            StatusCode::OK,
                        )
                        .await;
                        let stored = current.as_ref().map(|c| {
                            (
                                c["dashboard"]["version"].as_i64(),
                                c["dashboard"]["pharosTestCounter"].as_i64(),
                            )
                        });
                        let outcome = match other {
                            Outcome::Failed(why) => Outcome::Failed(format!(
                                "{why} (expected version {} counter {}, stored {stored:?})",
                                d.version + 1,
                                d.acked + 1
                            )),
                            other => other,
                        };
                        load.record(phase, Kind::Save, (outcome, took));
                        if let Some((version, counter)) = stored {
                            d.version = version.unwrap_or(d.version);
                            d.acked = counter.unwrap_or(d.acked);
                        }
                        break;
                    }
                    if Instant::now() > give_up {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    owned
}

/// Reads dashboards and searches, alternately.
async fn reader(load: Arc<Load>, uids: Vec<String>, offset: usize) {
    let mut turn = offset;
    while !load.stopped() {
        turn += 1;
        let phase = load.phase();
        if turn.is_multiple_of(3) {
            let (outcome, _) = judge(
                load.request(reqwest::Method::GET, "/api/search?query=HA&tag=ha"),
                StatusCode::OK,
            )
            .await;
            load.record(phase, Kind::Search, outcome);
        } else {
            let uid = &uids[turn % uids.len()];
            let (outcome, _) = judge(
                load.request(reqwest::Method::GET, &format!("/api/dashboards/uid/{uid}")),
                StatusCode::OK,
            )
            .await;
            load.record(phase, Kind::Read, outcome);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Queries the TestData source (a POST that only reads).
async fn querier(load: Arc<Load>, datasource_uid: String) {
    while !load.stopped() {
        let phase = load.phase();
        let body = json!({
            "from": "now-1h", "to": "now",
            "queries": [{"refId": "A", "datasource": {"uid": datasource_uid},
                         "scenarioId": "random_walk", "seriesCount": 2,
                         "intervalMs": 10000, "maxDataPoints": 360}],
        });
        let (outcome, _) = judge(
            load.request(reqwest::Method::POST, "/api/ds/query")
                .json(&body),
            StatusCode::OK,
        )
        .await;
        load.record(phase, Kind::Query, outcome);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Logs in as a viewer with a fresh cookie jar and uses the session once.
async fn login_loop(load: Arc<Load>) {
    while !load.stopped() {
        let phase = load.phase();
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let (outcome, _) = judge(
            browser
                .post(format!("{}/login", load.lb))
                .json(&json!({"user": "ha-viewer", "password": "password1"}))
                .timeout(Duration::from_secs(15)),
            StatusCode::OK,
        )
        .await;
        let logged_in = matches!(outcome.0, Outcome::Ok);
        load.record(phase, Kind::Login, outcome);
        if logged_in {
            let phase = load.phase();
            let (outcome, _) = judge(
                browser
                    .get(format!("{}/api/user", load.lb))
                    .timeout(Duration::from_secs(15)),
                StatusCode::OK,
            )
            .await;
            load.record(phase, Kind::Login, outcome);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Cross-replica staleness: read a dashboard on replica B (so B has it cached), save it through
/// replica A, and time until B serves the new version. Returns the delays.
async fn staleness_probe(urls: Vec<String>, token: String, rounds: usize) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let get_version = |base: &str| {
        let rb = http
            .get(format!("{base}/api/dashboards/uid/ha-stale"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(5));
        async move {
            let r = rb.send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            v["dashboard"]["version"].as_i64()
        }
    };
    let mut version = get_version(&urls[0]).await.expect("ha-stale exists");
    let mut delays = Vec::new();
    for round in 0..rounds {
        let (a, b) = (&urls[round % urls.len()], &urls[(round + 1) % urls.len()]);
        assert_eq!(
            get_version(b).await,
            Some(version),
            "replica {b} before the save"
        );
        let owned = Owned {
            uid: "ha-stale".into(),
            version,
            acked: 0,
        };
        let resp = http
            .post(format!("{a}/api/dashboards/db"))
            .bearer_auth(&token)
            .json(&dashboard_body(&owned, round as i64))
            .send()
            .await
            .expect("staleness save");
        assert_eq!(resp.status(), StatusCode::OK, "staleness save through {a}");
        let saved: Value = resp.json().await.unwrap();
        version = saved["version"].as_i64().unwrap();
        let acked = Instant::now();
        loop {
            if get_version(b).await == Some(version) {
                break;
            }
            assert!(
                acked.elapsed() < Duration::from_secs(10),
                "replica {b} still serves an older version 10 s after the save"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        delays.push(acked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delays
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// HAProxy's name for replica `i`.
fn server(i: usize) -> String {
    format!("pharos{}", i + 1)
}

async fn wait_all_up(lb: &Haproxy, n: usize) {
    for i in 0..n {
        lb.wait_status("pharos", &server(i), "UP", Duration::from_secs(20))
            .await;
    }
}

/// Polls every replica's /readyz until each answers 200; returns when each did (since `since`).
async fn time_to_ready(cluster: &HaCluster, since: Instant) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let mut ready: Vec<Option<Duration>> = vec![None; cluster.len()];
    while ready.iter().any(Option::is_none) {
        for (i, slot) in ready.iter_mut().enumerate() {
            if slot.is_none() {
                let ok = http
                    .get(format!("{}/readyz", cluster.url(i)))
                    .timeout(Duration::from_secs(3))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == StatusCode::OK);
                if ok {
                    *slot = Some(since.elapsed());
                }
            }
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "replicas not ready 60 s after the database came back: {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ready.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_through_haproxy_loses_nothing() {
    let options = Options::default().env("PHAROS_LOG_LEVEL", "info,pharos_server::telemetry=warn");
    let mut cluster = HaCluster::start(3, options).await;
    let lb = Haproxy::start(&cluster.addresses()).await;
    wait_all_up(&lb, 3).await;

    // Set-up through replica 1: an Editor token for the load, a viewer who logs in, a TestData
    // source, the writers' dashboards and the staleness probe's.
    let first = cluster.replica(0);
    let (_, _, token) = create_token(first, "ha-load", "Editor", None).await;
    first.create_user("ha-viewer").await;
    let admin = first.admin();
    let (s, ds) = admin
        .post(
            "/api/datasources",
            json!({"name": "HA TestData", "type": "testdata", "uid": "ha-testdata", "access": "proxy"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ds}");
    let editor = first.bearer(&token);
    const WRITERS: usize = 3;
    const PER_WRITER: usize = 4;
    let mut owned: Vec<Vec<Owned>> = Vec::new();
    for w in 0..WRITERS {
        let mut mine = Vec::new();
        for d in 0..PER_WRITER {
            let mut dash = Owned {
                uid: format!("ha-w{w}-d{d}"),
                version: 0,
                acked: 0,
            };
            let saved = save_ok(&editor, dashboard_body(&dash, 0)).await;
            dash.version = saved["version"].as_i64().unwrap();
            mine.push(dash);
        }
        owned.push(mine);
    }
    save_ok(
        &editor,
        dashboard_body(
            &Owned {
                uid: "ha-stale".into(),
                version: 0,
                acked: 0,
            },
            0,
        ),
    )
    .await;
    let initial_version: Vec<Vec<i64>> = owned
        .iter()
        .map(|m| m.iter().map(|d| d.version).collect())
        .collect();
    let uids: Vec<String> = owned.iter().flatten().map(|d| d.uid.clone()).collect();

    let load = Arc::new(Load {
        phase: AtomicU8::new(0),
        stop: AtomicBool::new(false),
        tallies: Mutex::default(),
        lb: lb.url.clone(),
        token: token.clone(),
        http: reqwest::Client::new(),
    });
    let started = Instant::now();
    let writers: Vec<_> = owned
        .into_iter()
        .map(|mine| tokio::spawn(writer(load.clone(), mine)))
        .collect();
    let mut others = Vec::new();
    for r in 0..3 {
        others.push(tokio::spawn(reader(load.clone(), uids.clone(), r * 7)));
    }
    others.push(tokio::spawn(querier(load.clone(), "ha-testdata".into())));
    others.push(tokio::spawn(login_loop(load.clone())));

    // Steady, with the staleness probe running beside the load.
    let urls: Vec<String> = (0..3).map(|i| cluster.url(i)).collect();
    let mut delays = staleness_probe(urls, token.clone(), 60).await;
    delays.sort();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 1. kill -9 replica 2, then start it again.
    load.set_phase(Phase::Kill9);
    cluster.kill(1);
    let removal = lb
        .wait_status("pharos", &server(1), "DOWN", Duration::from_secs(15))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start_replica(1).await;
    let back_in = lb
        .wait_status("pharos", &server(1), "UP", Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 2. A rolling restart with SIGTERM, one replica at a time, each back in rotation before the
    // next goes.
    load.set_phase(Phase::Rolling);
    let mut exits = Vec::new();
    for i in 0..3 {
        let signalled = Instant::now();
        let exit = cluster.terminate(i, Duration::from_secs(45)).await;
        assert!(
            exit.is_some_and(|e| e.success()),
            "replica {i} did not exit 0 after SIGTERM: {exit:?}"
        );
        exits.push(signalled.elapsed());
        cluster.start_replica(i).await;
        lb.wait_status("pharos", &server(i), "UP", Duration::from_secs(20))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 3. PostgreSQL down for 5 s.
    load.set_phase(Phase::DbDown);
    tokio::task::block_in_place(|| cluster.pg.stop());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let crashed_during_outage = cluster.crashed();
    tokio::task::block_in_place(|| cluster.pg.start_again());
    load.set_phase(Phase::DbBack);
    let db_back = Instant::now();
    let recovery = time_to_ready(&cluster, db_back).await;
    // A keyed save through HAProxy works again.
    let probe_key = random_key();
    let write_back = loop {
        let resp = load
            .request(reqwest::Method::POST, "/api/dashboards/db")
            .header("Idempotency-Key", &probe_key)
            .json(&json!({"dashboard": {"uid": "ha-after-outage", "title": "HA after the outage"}, "overwrite": true}))
            .send()
            .await;
        if resp.is_ok_and(|r| r.status() == StatusCode::OK) {
            break db_back.elapsed();
        }
        assert!(
            db_back.elapsed() < Duration::from_secs(60),
            "no save succeeded within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_all_up(&lb, 3).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    load.set_phase(Phase::Recovered);
    tokio::time::sleep(Duration::from_secs(4)).await;

    load.stop.store(true, Ordering::SeqCst);
    let mut finished: Vec<Owned> = Vec::new();
    for w in writers {
        finished.extend(w.await.expect("writer"));
    }
    for t in others {
        t.await.expect("load task");
    }
    let load_secs = started.elapsed().as_secs_f64();

    // Every acknowledged save is there, exactly once: version = initial + acknowledged saves, and
    // the stored counter is the last acknowledged one.
    let admin_lb = cluster.replica(0).admin().against(&lb.url);
    let mut lost = Vec::new();
    let mut acked_total = 0;
    for (d, initial) in finished.iter().zip(initial_version.iter().flatten()) {
        acked_total += d.acked;
        let body = get_dashboard(&admin_lb, &d.uid).await;
        let stored_version = body["dashboard"]["version"].as_i64();
        let stored_counter = body["dashboard"]["pharosTestCounter"].as_i64();
        if stored_version != Some(d.version)
            || stored_counter != Some(d.acked)
            || d.version != initial + d.acked
        {
            lost.push(format!(
                "{}: stored version {stored_version:?} counter {stored_counter:?}, acknowledged version {} after {} saves from version {initial}",
                d.uid, d.version, d.acked
            ));
        }
    }

    // The report.
    let tallies = std::mem::take(&mut *load.tallies.lock().unwrap());
    println!(
        "\nHA failover test: 3 replicas behind HAProxy on PostgreSQL, load for {load_secs:.0} s"
    );
    println!(
        "{:<10} {:<7} {:>7} {:>11} {:>7} {:>10} {:>10}",
        "phase", "kind", "ok", "503 (JSON)", "failed", "p99", "max"
    );
    let mut failures = Vec::new();
    let mut outage_503 = 0;
    for ((phase, kind), t) in tallies.iter() {
        let mut latencies = t.latencies.clone();
        latencies.sort();
        println!(
            "{:<10} {:<7} {:>7} {:>11} {:>7} {:>10} {:>10}",
            format!("{phase:?}"),
            format!("{kind:?}"),
            t.ok,
            t.unavailable,
            t.failed,
            format!("{:.1?}", percentile(&latencies, 99.0)),
            format!("{:.1?}", latencies.last().copied().unwrap_or_default()),
        );
        let bad = if outage(*phase) {
            outage_503 += t.unavailable;
            t.failed
        } else {
            t.failed + t.unavailable
        };
        if bad > 0 {
            failures.push(format!(
                "{phase:?}/{kind:?}: {bad} failed, e.g. {:?}",
                t.examples
            ));
        }
    }
    let total_ok: u64 = tallies.values().map(|t| t.ok).sum();
    let p50 = percentile(&delays, 50.0);
    let p99 = percentile(&delays, 99.0);
    println!(
        "requests answered 200: {total_ok}; acknowledged saves: {acked_total}; lost or doubled: {}",
        lost.len()
    );
    println!("kill -9: HAProxy took the replica out after {removal:?}; the restarted replica was back in rotation {back_in:?} after ready");
    println!("rolling restart: SIGTERM to exit {exits:?}");
    println!(
        "database outage (5 s): {outage_503} answers were 503 with a JSON message; replicas ready {recovery:?} after PostgreSQL was back, a save through HAProxy after {write_back:?}"
    );
    println!(
        "cross-replica staleness over {} saves: p50 {p50:?}, p99 {p99:?}, max {:?}",
        delays.len(),
        delays.last().unwrap()
    );
    let logs = cluster.all_logs();
    let count = |needle: &str| logs.iter().filter(|l| l.contains(needle)).count();
    let takeovers = count("took over an idempotency key");
    println!(
        "replica logs: {} errors; {takeovers} idempotency keys taken over from a dead replica",
        count("\"level\":\"ERROR\""),
    );
    println!("HAProxy: {}", lb.retry_counters().await);

    assert!(
        lost.is_empty(),
        "acknowledged saves lost or applied twice: {lost:#?}"
    );
    let warnings: Vec<&String> = logs
        .iter()
        .filter(|l| {
            l.contains("\"level\":\"WARN\"")
                && !l.contains("default: change it")
                && !l.contains("the web UI is not built")
                && !l.contains("\"route\":\"/readyz\"")
        })
        .take(40)
        .collect();
    assert!(
        failures.is_empty(),
        "failed requests: {failures:#?}\nreplica warnings: {warnings:#?}\nHAProxy:\n{}",
        lb.log()
    );
    assert!(
        crashed_during_outage.is_empty() && cluster.crashed().is_empty(),
        "replicas exited by themselves: {crashed_during_outage:?} {:?}",
        cluster.crashed()
    );
    assert!(
        recovery.iter().all(|d| *d <= Duration::from_secs(5)),
        "a replica took over 5 s to recover: {recovery:?}"
    );
    assert!(p99 <= Duration::from_secs(1), "staleness p99 {p99:?} > 1 s");
    assert!(acked_total > 100, "the load made only {acked_total} saves");
}

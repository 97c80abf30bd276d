//! How many alert rules one replica evaluates on time: every rule is one PromQL query over 10
//! series (a real Prometheus scraping an exporter of 10 series), reduce `last` and a threshold,
//! in groups with a 10 s interval. The number of rules steps up (100, 500, 1,000, 1,500, 2,000,
//! 2,500, 3,000, 5,000, 10,000, or `PHAROS_BENCH_ALERTING_STEPS`); each step is measured over
//! three intervals (30 s) and the steps stop after the first that falls behind.
//!
//! An evaluation is due at each interval's aligned time (the scheduler evaluates a group at
//! `now - now % interval`). Its lag is the time its state step was written to the database
//! (`alert_instances.updated_at`, stamped by Pharos) minus that due time: queries, expressions
//! and the state write, everything before the rule's result counts. It is on time when that lag
//! is below the interval (done before the next one is due). The database is sampled every 2 s,
//! so an evaluation is seen unless the next one overwrites it within 2 s — which only a late one
//! can be.
//!
//! Prints per step: rules, evaluations due and done on time, lag p50/p99/max, evaluations a second
//! the scheduler counted (`pharos_alerting_evaluations_total`), skipped ones (its "still running"
//! warnings), and Pharos' CPU (from /proc). Pharos runs the release build on PostgreSQL
//! (`PHAROS_TEST_POSTGRES_URL` or the local server) with default alerting settings.
//!
//! `cargo bench -p pharos-server --bench alerting` (or bench/alerting.sh).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pharos_store::{now_ms, NewAlertRule, Store, StoreOptions};
use pharos_testkit::alerting::{
    metric, prometheus_datasource_and_folder, threshold_rule, Exporter,
};
use pharos_testkit::{json, psql_at, Backend, Database, Options, Pharos};

const INTERVAL_S: i64 = 10;
const INTERVAL_MS: i64 = INTERVAL_S * 1000;
/// Intervals measured per step.
const MEASURED_INTERVALS: i64 = 3;
const RULES_PER_GROUP: usize = 100;
const SERIES: usize = 10;
const DEFAULT_STEPS: &[usize] = &[100, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 5_000, 10_000];

struct Step {
    rules: usize,
    due: usize,
    on_time: usize,
    seen: usize,
    lag_p50: i64,
    lag_p99: i64,
    lag_max: i64,
    counted: f64,
    skipped: usize,
    cpu: f64,
}

impl Step {
    fn on_time_ratio(&self) -> f64 {
        self.on_time as f64 / self.due.max(1) as f64
    }

    fn keeps_up(&self) -> bool {
        self.on_time_ratio() >= 0.99 && self.lag_p99 < INTERVAL_MS
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return i64::MAX;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// User plus system CPU seconds of process `pid` so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which is in parentheses and may hold spaces): utime is the 14th
    // field of the line, stime the 15th, in clock ticks (100 a second on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Every rule's last evaluation as the database holds it: (rule uid, due time, written at).
fn last_evaluations(db_url: &str) -> Vec<(String, i64, i64)> {
    let text = psql_at(
        db_url,
        "SELECT rule_uid || ' ' || ((data::jsonb)->>'lastEvaluatedAt') || ' ' || updated_at \
         FROM (SELECT DISTINCT ON (rule_uid) rule_uid, data, updated_at FROM alert_instances \
               WHERE org_id = 1 ORDER BY rule_uid, fingerprint) AS one_per_rule",
    );
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            let uid = parts.next()?.to_string();
            let at = parts.next()?.parse().ok()?;
            let written = parts.next()?.parse().ok()?;
            Some((uid, at, written))
        })
        .collect()
}

async fn add_rules(store: &Store, from: usize, to: usize) {
    for i in from..to {
        let rule = threshold_rule(
            &format!("Bench {i}"),
            // A matcher on a label no series has keeps all 10 series and makes each rule's query
            // its own (nothing shared between rules in any cache).
            &format!("pharos_bench_load{{bench_rule!=\"{i}\"}}"),
            1000.0,
            "0s",
            json!({}),
            json!({}),
        );
        store
            .create_alert_rule(
                1,
                &NewAlertRule {
                    uid: format!("bench-{i:05}"),
                    folder_uid: "infra".into(),
                    rule_group: format!("group-{:03}", i / RULES_PER_GROUP),
                    title: format!("Bench {i}"),
                    data: rule.to_string(),
                    provenance: String::new(),
                },
                INTERVAL_S,
            )
            .await
            .expect("creating a rule");
    }
}

async fn measure(pharos: &Pharos, rules: usize) -> Step {
    // Let the scheduler load the new rules (it reloads every 5 s) and evaluate them once: the
    // first evaluation of a rule also reads its instances. Then measure from the next boundary.
    let settle_until = now_ms() + 6_000 + INTERVAL_MS;
    let first_due = settle_until - settle_until.rem_euclid(INTERVAL_MS) + INTERVAL_MS;
    let last_due = first_due + (MEASURED_INTERVALS - 1) * INTERVAL_MS;
    tokio::time::sleep(Duration::from_millis((first_due - now_ms()).max(0) as u64)).await;
    let pid = pharos.pid().expect("pharos pid");
    let cpu_before = cpu_seconds(pid);
    let counted_before = metric(pharos, "pharos_alerting_evaluations_total")
        .await
        .unwrap_or(0.0);
    let skipped_before = skipped(pharos);
    let window_started = Instant::now();
    // Sample until the last due evaluation has had its whole interval (and a sample after).
    let mut written: BTreeMap<(String, i64), i64> = BTreeMap::new();
    let db_url = pharos.db.url.clone();
    while now_ms() < last_due + INTERVAL_MS + 2_000 {
        let url = db_url.clone();
        let rows = tokio::task::spawn_blocking(move || last_evaluations(&url))
            .await
            .expect("sampling");
        for (uid, at, when) in rows {
            if (first_due..=last_due).contains(&at) {
                written.entry((uid, at)).or_insert(when);
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // CPU and counters over the measured intervals only (the window is 3 intervals plus the
    // tail; scale to the window's length).
    let window = window_started.elapsed().as_secs_f64();
    let cpu = (cpu_seconds(pid) - cpu_before) / window;
    let counted = metric(pharos, "pharos_alerting_evaluations_total")
        .await
        .unwrap_or(0.0)
        - counted_before;
    let mut lags: Vec<i64> = written.iter().map(|((_, at), when)| when - at).collect();
    lags.sort_unstable();
    Step {
        rules,
        due: rules * MEASURED_INTERVALS as usize,
        on_time: lags.iter().filter(|l| **l < INTERVAL_MS).count(),
        seen: lags.len(),
        lag_p50: percentile(&lags, 0.5),
        lag_p99: percentile(&lags, 0.99),
        lag_max: lags.last().copied().unwrap_or(i64::MAX),
        counted: counted / window,
        skipped: skipped(pharos) - skipped_before,
        cpu,
    }
}

/// The scheduler's warnings that a rule's previous evaluation still ran at its next due time.
fn skipped(pharos: &Pharos) -> usize {
    pharos
        .logs()
        .iter()
        .filter(|l| l.contains("the previous evaluation is still running"))
        .count()
}

#[tokio::main]
async fn main() {
    let steps: Vec<usize> = std::env::var("PHAROS_BENCH_ALERTING_STEPS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| DEFAULT_STEPS.to_vec());
    let exporter = Exporter::start("pharos_bench_load").await;
    for series in 0..SERIES {
        exporter.set(&format!("series=\"{series}\""), series as f64);
    }
    let prometheus = exporter.scraped().await;
    let db = Database::fresh(Backend::Postgres);
    let pharos = Pharos::start_with(db.clone(), Options::default()).await;
    prometheus_datasource_and_folder(&pharos.admin(), &prometheus.url).await;
    let store = Store::connect(&StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(30),
    })
    .await
    .expect("connecting to the database");
    println!(
        "alerting: one replica, rules of one PromQL query over {SERIES} series, {INTERVAL_S} s \
         interval, {MEASURED_INTERVALS} intervals measured per step"
    );
    println!(
        "{:>6} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8} {:>7} {:>10}",
        "rules",
        "due",
        "on time",
        "on time%",
        "lag p50",
        "lag p99",
        "lag max",
        "evals/s",
        "skipped",
        "pharos CPU"
    );
    let mut created = 0;
    let mut best = None;
    for rules in steps {
        let adding = Instant::now();
        add_rules(&store, created, rules).await;
        created = rules;
        let added_in = adding.elapsed();
        let step = measure(&pharos, rules).await;
        let ms = |v: i64| {
            if v == i64::MAX {
                "-".to_string()
            } else {
                format!("{v} ms")
            }
        };
        println!(
            "{:>6} {:>6} {:>8} {:>7.1}% {:>9} {:>9} {:>9} {:>8.1} {:>7} {:>9.0}%   (seen {}, rules added in {:.1?})",
            step.rules,
            step.due,
            step.on_time,
            step.on_time_ratio() * 100.0,
            ms(step.lag_p50),
            ms(step.lag_p99),
            ms(step.lag_max),
            step.counted,
            step.skipped,
            step.cpu * 100.0,
            step.seen,
            added_in
        );
        if !step.keeps_up() {
            break;
        }
        best = Some(step);
    }
    match best {
        Some(step) => println!(
            "one replica evaluates {} rules on time (≥99% on time, lag p99 < {INTERVAL_S} s): lag \
             p50 {} ms, p99 {} ms at that load, Pharos at {:.0}% of one core",
            step.rules,
            step.lag_p50,
            step.lag_p99,
            step.cpu * 100.0
        ),
        None => println!("no step kept up"),
    }
}

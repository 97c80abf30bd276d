//! Throughput and failover through HAProxy (Debian's, running deploy/haproxy/haproxy.cfg) in front
//! of Pharos replicas on a PostgreSQL server of the benchmark's own, all on loopback:
//!
//! 1. requests/s of a cached dashboard read with wrk: through HAProxy to 3 replicas, through
//!    HAProxy to 1 replica, and straight to 1 replica (what the balancer costs);
//! 2. kill -9 of one replica under load: the time until HAProxy marks it DOWN and the errors wrk
//!    saw, per phase (before, during the kill, after the restart); and the time to DOWN with no
//!    traffic (health checks alone).
//!
//! `cargo bench -p pharos-server --bench ha_haproxy` (or bench/ha.sh). Release build; wrk and
//! haproxy from scripts/install-deps. Settings: BENCH_SECONDS (wrk run length, default 10),
//! BENCH_CONNECTIONS (default 32), BENCH_KILLS (kill -9 repetitions, default 3).

use std::process::Command;
use std::time::Duration;

use pharos_testkit::ha::HaCluster;
use pharos_testkit::haproxy::Haproxy;
use pharos_testkit::peers::require_program;
use pharos_testkit::{create_token, json, save_ok, Options};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one wrk run reported.
#[derive(Debug, Default)]
struct WrkRun {
    requests: u64,
    per_second: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
    socket_errors: u64,
}

impl WrkRun {
    fn errors(&self) -> u64 {
        self.non_2xx + self.socket_errors
    }
}

fn parse_wrk(out: &str) -> WrkRun {
    let mut run = WrkRun::default();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => run.per_second = v.parse().unwrap_or(0.0),
            [n, "requests", "in", ..] => run.requests = n.parse().unwrap_or(0),
            ["50%", v] => run.p50 = v.to_string(),
            ["99%", v] => run.p99 = v.to_string(),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 3, write 0, timeout 0"
                run.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    run
}

/// Runs wrk against `url` for `seconds` with the bearer `token`.
async fn wrk(url: &str, token: &str, seconds: u64, connections: u64) -> WrkRun {
    let program = require_program("wrk", "wrk");
    let (url, token) = (url.to_string(), token.to_string());
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{seconds}s"),
                "--latency",
                "-H",
                &format!("Authorization: Bearer {token}"),
                &url,
            ])
            .output()
            .expect("wrk");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "wrk failed: {text}");
        parse_wrk(&text)
    })
    .await
    .expect("wrk task")
}

fn row(label: &str, run: &WrkRun) {
    println!(
        "{label:<44} {:>9.0} req/s  p50 {:>8}  p99 {:>8}  {:>7} requests  {:>4} errors",
        run.per_second,
        run.p50,
        run.p99,
        run.requests,
        run.errors()
    );
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let seconds = setting("BENCH_SECONDS", 10);
    let connections = setting("BENCH_CONNECTIONS", 32);
    let kills = setting("BENCH_KILLS", 3) as usize;
    let options = Options::default().env("PHAROS_LOG_LEVEL", "info,pharos_server::telemetry=warn");
    let mut cluster = HaCluster::start(3, options).await;
    let three = Haproxy::start(&cluster.addresses()).await;
    let one = Haproxy::start(&cluster.addresses()[..1]).await;
    for i in 0..3 {
        three
            .wait_status(
                "pharos",
                &format!("pharos{}", i + 1),
                "UP",
                Duration::from_secs(20),
            )
            .await;
    }
    one.wait_status("pharos", "pharos1", "UP", Duration::from_secs(20))
        .await;

    let first = cluster.replica(0);
    let (_, _, token) = create_token(first, "bench", "Viewer", None).await;
    let admin = first.admin();
    let panels: Vec<_> = (0..20)
        .map(|i| {
            json!({"id": i + 1, "type": "timeseries", "title": format!("Panel {i}"),
                        "gridPos": {"x": (i % 2) * 12, "y": i * 8, "w": 12, "h": 8},
                        "targets": [{"refId": "A", "expr": format!("rate(metric_{i}[5m])")}]})
        })
        .collect();
    save_ok(
        &admin,
        json!({"dashboard": {"uid": "bench", "title": "Bench", "panels": panels}}),
    )
    .await;
    let path = "/api/dashboards/uid/bench";
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    println!(
        "\nHA through HAProxy: GET {path} (20 panels, cached), wrk -t2 -c{connections} -d{seconds}s, {cpus} CPUs shared by wrk, HAProxy, the replicas and PostgreSQL"
    );
    // Warm every replica's caches and connections.
    wrk(&format!("{}{path}", three.url), &token, 2, connections).await;
    wrk(&format!("{}{path}", cluster.url(0)), &token, 1, connections).await;
    let via_three = wrk(
        &format!("{}{path}", three.url),
        &token,
        seconds,
        connections,
    )
    .await;
    row("through HAProxy, 3 replicas", &via_three);
    let via_one = wrk(&format!("{}{path}", one.url), &token, seconds, connections).await;
    row("through HAProxy, 1 replica", &via_one);
    let direct = wrk(
        &format!("{}{path}", cluster.url(0)),
        &token,
        seconds,
        connections,
    )
    .await;
    row("straight to 1 replica (no balancer)", &direct);

    println!(
        "\nkill -9 of replica 2 under load ({kills} times), wrk through HAProxy to 3 replicas:"
    );
    let mut removals = Vec::new();
    for round in 0..kills {
        let before = wrk(&format!("{}{path}", three.url), &token, 3, connections).await;
        // wrk runs for `seconds`; the kill comes 2 s in.
        let url = format!("{}{path}", three.url);
        let token_during = token.clone();
        let during =
            tokio::spawn(async move { wrk(&url, &token_during, seconds, connections).await });
        tokio::time::sleep(Duration::from_secs(2)).await;
        cluster.kill(1);
        let removal = three
            .wait_status("pharos", "pharos2", "DOWN", Duration::from_secs(15))
            .await;
        removals.push(removal);
        let during = during.await.expect("wrk during the kill");
        cluster.start_replica(1).await;
        let back = three
            .wait_status("pharos", "pharos2", "UP", Duration::from_secs(20))
            .await;
        let after = wrk(&format!("{}{path}", three.url), &token, 3, connections).await;
        println!("  round {}: HAProxy marked the replica DOWN {removal:.0?} after kill -9; back UP {back:.0?} after its restart", round + 1);
        row("    before (3 s)", &before);
        row(&format!("    during ({seconds} s, kill at 2 s)"), &during);
        row("    after the restart (3 s)", &after);
    }

    // No traffic: only the health checks (inter 1s, fall 2) notice.
    cluster.kill(1);
    let idle_removal = three
        .wait_status("pharos", "pharos2", "DOWN", Duration::from_secs(15))
        .await;
    println!(
        "\nkill -9 to DOWN: under load median {:.0?} (of {:?}); idle (health checks only) {idle_removal:.0?}",
        median(removals.clone()),
        removals
    );
    println!("HAProxy counters: {}", three.retry_counters().await);
}

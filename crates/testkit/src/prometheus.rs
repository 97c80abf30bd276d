//! A real Prometheus (Debian `prometheus`) and node exporter (`prometheus-node-exporter`) for
//! query tests: Prometheus scrapes the node exporter (job `node`) and any extra targets the test
//! names, every `scrape_interval`.

use std::time::Duration;

use serde_json::Value;

use crate::peers::{free_port, require_program, PeerProcess};
use crate::scratch_dir;

/// A running node exporter.
pub struct NodeExporter {
    pub address: String,
    /// Files `*.prom` written here are exported (the textfile collector): metrics a test controls.
    pub textfile_dir: std::path::PathBuf,
    process: PeerProcess,
}

impl NodeExporter {
    pub async fn start() -> NodeExporter {
        let program = require_program("prometheus-node-exporter", "prometheus-node-exporter");
        let dir = scratch_dir("pharos-node-exporter");
        let textfile_dir = dir.join("textfile");
        std::fs::create_dir_all(&textfile_dir).expect("textfile dir");
        let address = format!("127.0.0.1:{}", free_port());
        let mut process = PeerProcess::spawn(
            "node-exporter",
            dir,
            &program,
            &[
                format!("--web.listen-address={address}"),
                format!("--collector.textfile.directory={}", textfile_dir.display()),
            ],
        );
        process
            .wait_ready(
                &format!("http://{address}/metrics"),
                Duration::from_secs(20),
            )
            .await;
        NodeExporter {
            address,
            textfile_dir,
            process,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// A scrape target: job name and `host:port` addresses (plain HTTP, path `/metrics`).
pub struct Target {
    pub job: String,
    pub addresses: Vec<String>,
}

/// A running Prometheus.
pub struct Prometheus {
    pub url: String,
    pub scrape_interval: Duration,
    process: PeerProcess,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every `scrape_interval`, and waits until every target
    /// has been scraped at least once.
    pub async fn start(targets: &[Target], scrape_interval: Duration) -> Prometheus {
        let program = require_program("prometheus", "prometheus");
        let dir = scratch_dir("pharos-prometheus");
        let interval = format!("{}ms", scrape_interval.as_millis());
        let mut config = format!(
            "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\nscrape_configs:\n"
        );
        for t in targets {
            config.push_str(&format!(
                "  - job_name: {:?}\n    static_configs:\n      - targets: {}\n",
                t.job,
                serde_json::to_string(&t.addresses).expect("addresses")
            ));
        }
        std::fs::write(dir.join("prometheus.yml"), config).expect("prometheus.yml");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut process = PeerProcess::spawn(
            "prometheus",
            dir.clone(),
            &program,
            &[
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--log.level=warn".into(),
            ],
        );
        process
            .wait_ready(&format!("{url}/-/ready"), Duration::from_secs(60))
            .await;
        let prometheus = Prometheus {
            url,
            scrape_interval,
            process,
        };
        let expected = targets.iter().map(|t| t.addresses.len()).sum::<usize>();
        prometheus.wait_for_targets(expected).await;
        prometheus
    }

    /// Waits until `expected` targets report `up == 1`.
    pub async fn wait_for_targets(&self, expected: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let up = self.query("sum(up)").await;
            let n = up["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            if n as usize >= expected {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Prometheus scraped {n} of {expected} targets within 60 s:\n{}",
                self.process.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `GET /api/v1/<path>?<params>`: Prometheus' own answer, for comparison.
    pub async fn api(&self, path: &str, params: &[(&str, String)]) -> Value {
        reqwest::Client::new()
            .get(format!("{}/api/v1/{path}", self.url))
            .query(params)
            .send()
            .await
            .expect("Prometheus answers")
            .json()
            .await
            .expect("Prometheus answers JSON")
    }

    /// An instant query evaluated now.
    pub async fn query(&self, expr: &str) -> Value {
        self.api("query", &[("query", expr.to_string())]).await
    }

    /// How many requests Prometheus has answered on one of its HTTP handlers (such as
    /// `/api/v1/query_range`), read from its own metrics: the count at the source.
    pub async fn requests_served(&self, handler: &str) -> f64 {
        let body = reqwest::get(format!("{}/metrics", self.url))
            .await
            .expect("Prometheus metrics")
            .text()
            .await
            .expect("Prometheus metrics text");
        let needle = format!("handler=\"{handler}\"");
        body.lines()
            .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains(&needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stops Prometheus now, for tests of a source that goes away.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// Node exporter, a Pharos and a Prometheus scraping both every second, with a default Prometheus
/// datasource `prom` in that Pharos: what the query tests and benchmarks run against.
pub struct Stack {
    // Dropped in reverse: Pharos first, then its peers.
    pub prom: Prometheus,
    pub pharos: crate::Pharos,
    pub node: NodeExporter,
}

impl Stack {
    /// Starts the three with `env` set for Pharos (on a fresh SQLite database).
    pub async fn start(env: &[(&str, &str)]) -> Stack {
        let node = NodeExporter::start().await;
        let mut options = crate::Options::default();
        for (k, v) in env {
            options = options.env(k, v);
        }
        let pharos =
            crate::Pharos::start_with(crate::Database::fresh(crate::Backend::Sqlite), options)
                .await;
        let prom = Prometheus::start(
            &[
                Target {
                    job: "node".into(),
                    addresses: vec![node.address.clone()],
                },
                Target {
                    job: "pharos".into(),
                    addresses: vec![pharos.url.trim_start_matches("http://").to_string()],
                },
            ],
            Duration::from_secs(1),
        )
        .await;
        let (s, body) = pharos
            .admin()
            .post(
                "/api/datasources",
                serde_json::json!({"name": "Prometheus", "uid": "prom", "type": "prometheus",
                    "access": "proxy", "url": prom.url, "isDefault": true,
                    "jsonData": {"timeInterval": "1s"}}),
            )
            .await;
        assert!(s.is_success(), "creating the Prometheus datasource: {body}");
        Stack { prom, pharos, node }
    }
}

/// `POST /api/ds/query` with a range and queries.
pub async fn ds_query(
    client: &crate::Client,
    from: Value,
    to: Value,
    queries: Value,
) -> (reqwest::StatusCode, Value) {
    client
        .post(
            "/api/ds/query",
            serde_json::json!({"from": from, "to": to, "queries": queries}),
        )
        .await
}

/// The step of a Prometheus range result: its time field's `config.interval`.
pub fn step_of(result: &Value) -> i64 {
    result["frames"][0]["schema"]["fields"][0]["config"]["interval"]
        .as_i64()
        .unwrap_or_else(|| panic!("no step in {result}"))
}

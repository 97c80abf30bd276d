//! Debian's HAProxy running the project's own `deploy/haproxy/haproxy.cfg` in front of replicas on
//! loopback, with the stats page read as CSV to see what the balancer thinks of each replica.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::peers::{free_port, require_program, PeerProcess};
use crate::scratch_dir;

/// The deploy kit's configuration file, the one operators use.
pub fn deploy_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/haproxy/haproxy.cfg")
}

pub struct Haproxy {
    /// Where clients connect (the `pharos_http` frontend).
    pub url: String,
    /// The operators' frontend (stats, /metrics, /healthz).
    pub stats_url: String,
    process: PeerProcess,
    http: reqwest::Client,
}

/// One server line of the stats CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState {
    pub backend: String,
    pub server: String,
    /// `UP`, `DOWN`, `MAINT`, `no check`, or a transition such as `UP 1/2`.
    pub status: String,
}

impl Haproxy {
    /// Starts HAProxy for up to three replicas (`PHAROS_REPLICA_1..3`); fewer addresses repeat the
    /// last one (one replica behind three server lines is still one replica).
    pub async fn start(replicas: &[String]) -> Haproxy {
        assert!(!replicas.is_empty() && replicas.len() <= 3);
        let program = require_program("haproxy", "haproxy");
        let (port, stats_port) = (free_port(), free_port());
        let mut env: Vec<(String, String)> = (0..3)
            .map(|i| {
                let address = replicas.get(i).unwrap_or(&replicas[replicas.len() - 1]);
                (format!("PHAROS_REPLICA_{}", i + 1), address.clone())
            })
            .collect();
        env.push(("PHAROS_LB_BIND".into(), format!("127.0.0.1:{port}")));
        env.push((
            "PHAROS_LB_STATS_BIND".into(),
            format!("127.0.0.1:{stats_port}"),
        ));
        let config = deploy_config();
        let args = [
            "-db".to_string(), // foreground
            "-f".to_string(),
            config.to_str().expect("config path").to_string(),
        ];
        let mut process = PeerProcess::spawn_with_env(
            "haproxy",
            scratch_dir("pharos-haproxy"),
            &program,
            &args,
            &env,
        );
        let stats_url = format!("http://127.0.0.1:{stats_port}");
        process
            .wait_ready(&format!("{stats_url}/stats;csv"), Duration::from_secs(10))
            .await;
        Haproxy {
            url: format!("http://127.0.0.1:{port}"),
            stats_url,
            process,
            http: reqwest::Client::new(),
        }
    }

    /// Every server's state as the stats page reports it now.
    pub async fn servers(&self) -> Vec<ServerState> {
        let Ok(response) = self
            .http
            .get(format!("{}/stats;csv", self.stats_url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        else {
            return Vec::new();
        };
        let text = response.text().await.unwrap_or_default();
        parse_stats_csv(&text)
    }

    /// The status of `backend/server`, if listed.
    pub async fn status(&self, backend: &str, server: &str) -> Option<String> {
        self.servers()
            .await
            .into_iter()
            .find(|s| s.backend == backend && s.server == server)
            .map(|s| s.status)
    }

    /// Waits until `backend/server` reports exactly `status` (`UP` or `DOWN`) and returns how long
    /// that took, or panics after `timeout` with HAProxy's log.
    pub async fn wait_status(
        &self,
        backend: &str,
        server: &str,
        status: &str,
        timeout: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            if self.status(backend, server).await.as_deref() == Some(status) {
                return started.elapsed();
            }
            if started.elapsed() > timeout {
                panic!(
                    "HAProxy did not report {backend}/{server} {status} within {timeout:?} (now {:?}):\n{}",
                    self.status(backend, server).await,
                    self.process.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Retries and redispatches per backend, from HAProxy's Prometheus endpoint, as one line:
    /// evidence of how much of the failover the balancer absorbed.
    pub async fn retry_counters(&self) -> String {
        let text = match self
            .http
            .get(format!("{}/metrics", self.stats_url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => return format!("metrics unavailable: {e}"),
        };
        let mut parts = Vec::new();
        for line in text.lines() {
            for (metric, what) in [
                ("haproxy_backend_retry_warnings_total", "retries"),
                ("haproxy_backend_redispatch_warnings_total", "redispatches"),
                (
                    "haproxy_backend_connection_errors_total",
                    "connection errors",
                ),
            ] {
                if let Some(rest) = line.strip_prefix(metric) {
                    if let Some((labels, value)) = rest.rsplit_once(' ') {
                        if value != "0" {
                            parts.push(format!("{labels} {what} {value}"));
                        }
                    }
                }
            }
        }
        if parts.is_empty() {
            "no retries".into()
        } else {
            parts.join(", ")
        }
    }

    /// HAProxy's own output (its log goes to stderr).
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// Parses `/stats;csv`: a header line `# pxname,svname,...,status,...` then one line per proxy,
/// server, FRONTEND and BACKEND. Only server lines are returned.
pub fn parse_stats_csv(text: &str) -> Vec<ServerState> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let column = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(st)) = (column("pxname"), column("svname"), column("status"))
    else {
        return Vec::new();
    };
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > st && f[sv] != "FRONTEND" && f[sv] != "BACKEND")
        .map(|f| ServerState {
            backend: f[px].to_string(),
            server: f[sv].to_string(),
            status: f[st].to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_csv_lists_servers_only() {
        let csv = "# pxname,svname,qcur,status,weight\n\
                   pharos_http,FRONTEND,,OPEN,\n\
                   pharos,pharos1,0,UP,1\n\
                   pharos,pharos2,0,DOWN 1/2,1\n\
                   pharos,BACKEND,0,UP,2\n";
        let servers = parse_stats_csv(csv);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].server, "pharos2");
        assert_eq!(servers[1].status, "DOWN 1/2");
    }
}

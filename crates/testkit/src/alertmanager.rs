//! A real Prometheus Alertmanager (Debian `prometheus-alertmanager`) for notifier tests: one
//! instance on a free loopback port, clustering off, a route to a receiver that sends nothing, so
//! a test posts alerts and reads them back from `GET /api/v2/alerts`.

use std::time::Duration;

use serde_json::Value;

use crate::peers::{free_port, require_program, PeerProcess};
use crate::scratch_dir;

/// A running Alertmanager.
pub struct Alertmanager {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    process: PeerProcess,
}

impl Alertmanager {
    /// Starts Alertmanager and waits until `/-/ready` answers.
    pub async fn start() -> Alertmanager {
        let program = require_program("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = scratch_dir("pharos-alertmanager");
        std::fs::write(
            dir.join("alertmanager.yml"),
            "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
        )
        .expect("alertmanager.yml");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut process = PeerProcess::spawn(
            "alertmanager",
            dir.clone(),
            &program,
            &[
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                // An empty address turns the gossip cluster off (no fixed port 9094).
                "--cluster.listen-address=".into(),
                "--log.level=warn".into(),
            ],
        );
        process
            .wait_ready(&format!("{url}/-/ready"), Duration::from_secs(30))
            .await;
        Alertmanager { url, process }
    }

    /// `GET /api/v2/alerts` (active, silenced and inhibited alerts; resolved ones are not
    /// listed once their `endsAt` passed).
    pub async fn alerts(&self) -> Value {
        reqwest::Client::new()
            .get(format!("{}/api/v2/alerts", self.url))
            .send()
            .await
            .expect("Alertmanager answers")
            .json()
            .await
            .expect("Alertmanager answers JSON")
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

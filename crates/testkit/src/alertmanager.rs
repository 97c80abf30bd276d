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
    /// The user and password it requires, if any.
    pub basic_auth: Option<(String, String)>,
    process: PeerProcess,
}

impl Alertmanager {
    /// Starts Alertmanager and waits until `/-/ready` answers.
    pub async fn start() -> Alertmanager {
        Alertmanager::start_with_basic_auth(None).await
    }

    /// Starts Alertmanager requiring basic auth on every endpoint: `(user, password, bcrypt
    /// hash of the password)` (Alertmanager's web config stores only the hash).
    pub async fn start_with_basic_auth(auth: Option<(&str, &str, &str)>) -> Alertmanager {
        let program = require_program("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = scratch_dir("pharos-alertmanager");
        std::fs::write(
            dir.join("alertmanager.yml"),
            "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
        )
        .expect("alertmanager.yml");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut args = vec![
            format!("--config.file={}", dir.join("alertmanager.yml").display()),
            format!("--storage.path={}", dir.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            // An empty address turns the gossip cluster off (no fixed port 9094).
            "--cluster.listen-address=".into(),
            "--log.level=warn".into(),
        ];
        if let Some((user, _, hash)) = auth {
            let web = dir.join("web.yml");
            std::fs::write(&web, format!("basic_auth_users:\n  {user:?}: {hash:?}\n"))
                .expect("web.yml");
            args.push(format!("--web.config.file={}", web.display()));
        }
        let mut process = PeerProcess::spawn("alertmanager", dir.clone(), &program, &args);
        let basic_auth = auth.map(|(u, p, _)| (u.to_string(), p.to_string()));
        if basic_auth.is_none() {
            // This wait also notices a process that exited.
            process
                .wait_ready(&format!("{url}/-/ready"), Duration::from_secs(30))
                .await;
        }
        let am = Alertmanager {
            url,
            basic_auth,
            process,
        };
        if am.basic_auth.is_some() {
            am.wait_ready_with_auth().await;
        }
        am
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().get(format!("{}{path}", self.url));
        match &self.basic_auth {
            Some((u, p)) => request.basic_auth(u, Some(p)),
            None => request,
        }
    }

    /// Waits until `/-/ready` answers (with the credentials, if any), or panics with the log.
    async fn wait_ready_with_auth(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self
                .get("/-/ready")
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "alertmanager did not get ready within 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET /api/v2/alerts` (active, silenced and inhibited alerts; resolved ones are not
    /// listed once their `endsAt` passed).
    pub async fn alerts(&self) -> Value {
        self.get("/api/v2/alerts")
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

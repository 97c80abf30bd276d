//! A real InfluxDB 1.x (Debian's `influxd`) for integration tests: its own process on free
//! loopback ports, its meta/data/WAL directories in a scratch directory, killed and removed on
//! drop. The helpers speak InfluxDB's own HTTP API, so a test can compare what Pharos makes of an
//! answer with the answer itself.
//!
//! ```text
//! let influx = InfluxDb::start().await;
//! influx.create_database("metrics").await;
//! influx.write("metrics", "cpu,host=a usage=1.5 1700000000000").await;
//! let raw = influx.query("metrics", "SELECT * FROM cpu").await;
//! ```

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::peers::{free_port, require_program, PeerProcess};
use crate::scratch_dir;

/// A running `influxd`.
pub struct InfluxDb {
    /// The HTTP API's base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub url: String,
    /// The admin user and password when started with authentication on; the helpers use them.
    pub admin: Option<(String, String)>,
    process: PeerProcess,
    http: reqwest::Client,
}

impl InfluxDb {
    /// InfluxDB with authentication off.
    pub async fn start() -> InfluxDb {
        InfluxDb::launch(None).await
    }

    /// InfluxDB with authentication on and one admin user (created through the API, which
    /// InfluxDB allows without credentials while no user exists).
    pub async fn start_with_admin(user: &str, password: &str) -> InfluxDb {
        let mut influx = InfluxDb::launch(Some((user.to_string(), password.to_string()))).await;
        let (status, body) = influx
            .send(influx.http.post(format!("{}/query", influx.url)).form(&[(
                "q",
                format!(
                    "CREATE USER {} WITH PASSWORD {} WITH ALL PRIVILEGES",
                    quote_ident(user),
                    quote_string(password)
                ),
            )]))
            .await;
        assert!(status.is_success(), "creating the admin user: {body}");
        influx.admin = Some((user.to_string(), password.to_string()));
        influx
    }

    async fn launch(admin: Option<(String, String)>) -> InfluxDb {
        let program = require_program("influxd", "influxdb");
        let dir = scratch_dir("pharos-influxdb");
        let http_port = free_port();
        let rpc_port = free_port();
        // Every setting that would touch a system path or a well-known port is set here; the
        // rest are InfluxDB's defaults (graphite, collectd, opentsdb and udp listeners are off).
        let config = format!(
            r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{dir}/meta"
  logging-enabled = false

[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = {auth}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
"#,
            dir = dir.display(),
            auth = admin.is_some(),
        );
        let config_path = dir.join("influxdb.conf");
        std::fs::write(&config_path, config).expect("writing influxdb.conf");
        let mut process = PeerProcess::spawn(
            "influxd",
            dir,
            &program,
            &["-config".to_string(), config_path.display().to_string()],
        );
        let url = format!("http://127.0.0.1:{http_port}");
        // `/ping` answers 204 once the HTTP service is up, with or without authentication.
        process
            .wait_ready(&format!("{url}/ping"), Duration::from_secs(30))
            .await;
        InfluxDb {
            url,
            admin: None,
            process,
            http: reqwest::Client::new(),
        }
    }

    /// Stops InfluxDB now (SIGKILL), for tests of a source that goes away.
    pub fn stop(&mut self) {
        self.process.kill();
    }

    /// InfluxDB's output so far (for failure messages).
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// `CREATE DATABASE name`, insisting on success.
    pub async fn create_database(&self, name: &str) {
        let (status, body) = self
            .send(
                self.with_auth(
                    self.http
                        .post(format!("{}/query", self.url))
                        .form(&[("q", format!("CREATE DATABASE {}", quote_ident(name)))]),
                ),
            )
            .await;
        assert!(
            status.is_success() && body["results"][0].get("error").is_none(),
            "creating database {name}: {status} {body}"
        );
    }

    /// Writes line protocol with millisecond timestamps, insisting on InfluxDB's 204.
    pub async fn write(&self, db: &str, line_protocol: &str) {
        let request = self
            .http
            .post(format!("{}/write", self.url))
            .query(&[("db", db), ("precision", "ms")])
            .body(line_protocol.to_string());
        let (status, body) = self.send(self.with_auth(request)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "writing to {db}: {body}");
    }

    /// Runs `q` on `db` through InfluxDB's HTTP API with `epoch=ms`, as Pharos asks, and returns
    /// the answer's JSON whatever the status (errors come back as `{"error": ...}`).
    pub async fn query(&self, db: &str, q: &str) -> Value {
        let request = self.http.get(format!("{}/query", self.url)).query(&[
            ("db", db),
            ("q", q),
            ("epoch", "ms"),
        ]);
        self.send(self.with_auth(request)).await.1
    }

    fn with_auth(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.admin {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }

    async fn send(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap_or_else(|e| panic!("InfluxDB request failed: {e}\n{}", self.log()));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }
}

/// An InfluxQL identifier in double quotes.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An InfluxQL string literal in single quotes.
fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

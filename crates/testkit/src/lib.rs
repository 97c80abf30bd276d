//! Test support: real `pharos` processes on free ports, each on a fresh SQLite file or a fresh
//! PostgreSQL database, and a small HTTP client that speaks to them. Tests read as the scenario
//! they check:
//!
//! ```text
//! let px = Pharos::start(Backend::Postgres).await;
//! let (status, body) = px.admin().post("/api/folders", json!({"title": "Ops"})).await;
//! ```

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use reqwest;
pub use serde_json::json;

pub mod alerting;
pub mod alertmanager;
mod api;
pub mod ha;
pub mod haproxy;
pub mod influxdb;
mod json;
pub mod peers;
pub mod pg_instance;
pub mod prometheus;
mod session;
pub mod tcp_proxy;

pub use api::{create_token, get_dashboard, save_ok};
pub use json::{
    assert_error, assert_json_error, first_difference, is_valid_uid, without_server_fields,
};
pub use session::{
    by_cookie, login, login_token, session_cookie, with_cookie, with_cookie_json, Login,
    SESSION_COOKIE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where tests find PostgreSQL: `PHAROS_TEST_POSTGRES_URL` (a server URL without a database), or the
/// local trust-auth server.
pub fn postgres_server_url() -> String {
    std::env::var("PHAROS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn unique_suffix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty directory under the system's temp dir, named `{prefix}-{unique suffix}`. The caller
/// removes it.
pub fn scratch_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", unique_suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh, empty database: removed when dropped.
pub struct Database {
    pub backend: Backend,
    pub url: String,
    dir: Option<PathBuf>,
    pg_name: Option<String>,
}

impl Database {
    pub fn fresh(backend: Backend) -> Arc<Database> {
        let suffix = unique_suffix();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("pharos-test-{suffix}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                Arc::new(Database {
                    backend,
                    url: format!("sqlite://{}/pharos.db", dir.display()),
                    dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let name = format!("pharos_test_{suffix}");
                psql(&format!("CREATE DATABASE {name}"));
                Arc::new(Database {
                    backend,
                    url: format!("{}/{name}", postgres_server_url()),
                    dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// A database someone else owns (a test's own PostgreSQL server, say): nothing is removed on
    /// drop.
    pub fn existing(backend: Backend, url: &str) -> Arc<Database> {
        Arc::new(Database {
            backend,
            url: url.to_string(),
            dir: None,
            pg_name: None,
        })
    }

    /// The directory holding an SQLite database (for tests that inspect files).
    pub fn dir(&self) -> Option<&PathBuf> {
        self.dir.as_ref()
    }
}

/// Runs one statement against the PostgreSQL server's `postgres` database.
pub fn psql(sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .arg(format!("{}/postgres", postgres_server_url()))
        .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .expect("psql must be installed for PostgreSQL tests");
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs one query against a test database by URL.
pub fn psql_at(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = &self.pg_name {
            let _ = std::process::Command::new("psql")
                .arg(format!("{}/postgres", postgres_server_url()))
                .args([
                    "-tAc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// The `pharos` binary under test: `PHAROS_BIN`, else the one cargo built beside the test.
pub fn pharos_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("PHAROS_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/pharos
    let profile_dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let bin = profile_dir.join("pharos");
    assert!(
        bin.exists(),
        "{} not built: run cargo build first or set PHAROS_BIN",
        bin.display()
    );
    bin
}

/// A running `pharos serve`, stopped (SIGKILL) when dropped.
pub struct Pharos {
    pub url: String,
    pub db: Arc<Database>,
    child: Option<Child>,
    logs: Arc<Mutex<Vec<String>>>,
    pub started_in: Duration,
    /// The process' working directory, removed with it.
    work_dir: PathBuf,
}

/// Options for [`Pharos::start_with`].
#[derive(Default, Clone)]
pub struct Options {
    /// Extra environment variables (`PHAROS_...`).
    pub env: Vec<(String, String)>,
}

impl Options {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

impl Pharos {
    /// Pharos on a fresh database of `backend`.
    pub async fn start(backend: Backend) -> Pharos {
        Pharos::start_with(Database::fresh(backend), Options::default()).await
    }

    /// Pharos on an existing database (a second replica, say).
    pub async fn start_with(db: Arc<Database>, options: Options) -> Pharos {
        Pharos::try_start(db, options)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn try_start(db: Arc<Database>, options: Options) -> Result<Pharos, String> {
        let started = Instant::now();
        let work_dir = std::env::temp_dir().join(format!("pharos-run-{}", unique_suffix()));
        std::fs::create_dir_all(&work_dir).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(pharos_bin());
        cmd.arg("serve")
            .current_dir(&work_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PHAROS_SERVER_LISTEN", "127.0.0.1:0")
            .env("PHAROS_DATABASE_URL", &db.url)
            .env("PHAROS_LOG_FORMAT", "json")
            .env("PHAROS_LOG_LEVEL", "info")
            // Tests count what they create; the demo datasource and dashboard would be in the way
            // (the demo tests turn it back on through `Options::env`).
            .env("PHAROS_SERVER_DEMO_DATA", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawning pharos: {e}"))?;
        let stderr = child.stderr.take().expect("stderr piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["message"] == "pharos is ready" {
                        let _ =
                            ready_tx.send(v["address"].as_str().unwrap_or_default().to_string());
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let address = tokio::select! {
            addr = ready_rx.recv() => addr,
            _ = tokio::time::sleep(Duration::from_secs(30)) => None,
            status = child.wait() => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = std::fs::remove_dir_all(&work_dir);
                return Err(format!("pharos exited before ready ({status:?}):\n{}", logs.lock().unwrap().join("\n")));
            }
        };
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            let _ = child.start_kill();
            let _ = std::fs::remove_dir_all(&work_dir);
            return Err(format!(
                "pharos did not become ready:\n{}",
                logs.lock().unwrap().join("\n")
            ));
        };
        Ok(Pharos {
            url: format!("http://{address}"),
            db,
            child: Some(child),
            logs,
            started_in: started.elapsed(),
            work_dir,
        })
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Log lines that are errors (or not structured log lines at all, such as a panic's message).
    pub fn error_lines(&self) -> Vec<String> {
        self.logs()
            .into_iter()
            .filter(|line| match serde_json::from_str::<Value>(line) {
                Ok(v) => v["level"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case("error")),
                Err(_) => !line.trim().is_empty(),
            })
            .collect()
    }

    /// Process id, for tests that signal it.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// True once the process has exited (crashed, or stopped by a signal).
    pub fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Waits for the process to exit by itself (after a signal).
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        tokio::time::timeout(timeout, child.wait()).await.ok()?.ok()
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url, Auth::None)
    }

    /// The default admin (admin/admin) over basic auth.
    pub fn admin(&self) -> Client {
        self.basic("admin", "admin")
    }

    pub fn basic(&self, user: &str, password: &str) -> Client {
        Client::new(&self.url, Auth::Basic(user.into(), password.into()))
    }

    pub fn bearer(&self, token: &str) -> Client {
        Client::new(&self.url, Auth::Bearer(token.into()))
    }

    /// A client that keeps cookies (for session tests).
    pub fn browser(&self) -> Client {
        Client::with_cookies(&self.url)
    }

    /// Creates a user `login` (email `{login}@example.com`, password `password1`) through the admin
    /// API, insisting on 200, and returns its id.
    pub async fn create_user(&self, login: &str) -> i64 {
        let (s, body) = self
            .admin()
            .post(
                "/api/admin/users",
                json!({"login": login, "email": format!("{login}@example.com"), "password": "password1"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a user with a role in org 1 and returns a basic-auth client for it.
    pub async fn user_with_role(&self, login: &str, role: &str) -> Client {
        let admin = self.admin();
        let id = self.create_user(login).await;
        let (s, body) = admin
            .patch(&format!("/api/org/users/{id}"), json!({"role": role}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        self.basic(login, "password1")
    }
}

impl Drop for Pharos {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

#[derive(Clone)]
enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

/// A JSON-speaking client for one Pharos. Every call returns the status and the body (JSON, or a
/// JSON string holding the text when the body is not JSON).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    auth: Auth,
}

impl Client {
    fn new(base: &str, auth: Auth) -> Client {
        Client {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            auth,
        }
    }

    fn with_cookies(base: &str) -> Client {
        Client {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            auth: Auth::None,
        }
    }

    /// The same cookie jar and credentials against another replica's address.
    pub fn against(&self, base: &str) -> Client {
        Client {
            base: base.to_string(),
            http: self.http.clone(),
            auth: self.auth.clone(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{}", self.base, path));
        match &self.auth {
            Auth::None => rb,
            Auth::Basic(u, p) => rb.basic_auth(u, Some(p)),
            Auth::Bearer(t) => rb.bearer_auth(t),
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = rb.send().await.expect("request failed");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PUT, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PATCH, path).json(&body))
            .await
    }

    /// Sends raw bytes (for malformed-input tests).
    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        self.send(
            self.request(Method::POST, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }
}

/// Runs futures concurrently (each in a task of its own) and returns their outputs in order: a
/// tiny join_all that keeps the testkit's and the tests' dependencies to tokio.
pub async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Runs one async test case against SQLite and against PostgreSQL: each backend becomes its own
/// `#[tokio::test]`, so a failure names the backend.
///
/// ```text
/// backend_matrix!(folders_crud, |backend| async move { let px = Pharos::start(backend).await; ... });
/// ```
#[macro_export]
macro_rules! backend_matrix {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let case = $body;
                case($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let case = $body;
                case($crate::Backend::Postgres).await;
            }
        }
    };
}

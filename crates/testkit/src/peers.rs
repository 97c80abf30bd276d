//! Real peers for integration tests (Prometheus, node exporter, InfluxDB): each runs as this
//! test's own process on a free loopback port with its data in a scratch directory, and is killed
//! (and its directory removed) when dropped. Nothing relies on a system service being configured.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test peer).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The path of a peer's program, or a panic telling how to install it.
pub fn require_program(name: &str, package: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain([
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
    ]) {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("{name} is not installed: run scripts/install-deps (Debian package {package})")
}

/// A peer process, killed with its scratch directory on drop.
pub struct PeerProcess {
    pub name: String,
    pub dir: PathBuf,
    child: Child,
    log: PathBuf,
}

impl PeerProcess {
    /// Starts `program args` in `dir` (created by the caller, owned by this peer from now on), its
    /// output appended to `dir/<name>.log`.
    pub fn spawn(name: &str, dir: PathBuf, program: &Path, args: &[String]) -> PeerProcess {
        PeerProcess::spawn_with_env(name, dir, program, args, &[])
    }

    /// [`PeerProcess::spawn`] with extra environment variables.
    pub fn spawn_with_env(
        name: &str,
        dir: PathBuf,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> PeerProcess {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("peer log file");
        let err = out.try_clone().expect("peer log file");
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({}): {e}", program.display()));
        PeerProcess {
            name: name.to_string(),
            dir,
            child,
            log,
        }
    }

    /// The peer's output so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET url` answers 2xx, or panics with the peer's log.
    pub async fn wait_ready(&mut self, url: &str, timeout: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(r) = client.get(url).timeout(Duration::from_secs(2)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not answer {url} within {timeout:?}:\n{}",
                    self.name,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the peer now (SIGKILL): for tests of a source that goes away.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! A PostgreSQL server of the test's own (initdb into a scratch directory, a free port), for tests
//! that stop and start the database: the shared server on 5432 serves every other test and must
//! stay up. Debian's binaries under /usr/lib/postgresql/<version>/bin; as root, the server runs as
//! the `postgres` user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::peers::free_port;
use crate::scratch_dir;

pub struct PgInstance {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

/// The newest installed PostgreSQL's binary directory.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): run scripts/install-deps",
    )
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as `postgres` when we are root; panics with its output on failure.
fn run(bin: &Path, program: &str, args: &[&str]) {
    let path = bin.join(program);
    let output = if running_as_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&path)
            .args(args)
            .output()
    } else {
        Command::new(&path).args(args).output()
    }
    .unwrap_or_else(|e| panic!("running {}: {e}", path.display()));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PgInstance {
    /// A new cluster (trust auth, fsync off: test data), started and answering.
    pub fn start() -> PgInstance {
        let bin = bin_dir();
        let dir = scratch_dir("pharos-pg");
        if running_as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown of {}", dir.display());
        }
        let data = dir.join("data");
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let instance = PgInstance {
            port: free_port(),
            dir,
            bin,
        };
        instance.start_again();
        instance
    }

    /// The server URL without a database.
    pub fn server_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        crate::psql_at(
            &format!("{}/postgres", self.server_url()),
            &format!("CREATE DATABASE {name}"),
        );
        format!("{}/{name}", self.server_url())
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&self.bin, "pg_ctl", &all);
    }

    /// Stops the server the way an operator's restart does (`-m fast`: sessions are ended and
    /// open transactions rolled back), waiting until it is down.
    pub fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "-w", "stop"]);
    }

    /// Starts the (stopped) server again on the same port, waiting until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log");
        self.pg_ctl(&[
            "-o",
            &options,
            "-l",
            log.to_str().unwrap(),
            "-t",
            "30",
            "-w",
            "start",
        ]);
        // pg_ctl -w waits for the socket; give TCP a moment as well.
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for PgInstance {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let path = self.bin.join("pg_ctl");
        let args = [
            "-D",
            data.to_str().unwrap_or(""),
            "-m",
            "immediate",
            "-w",
            "stop",
        ];
        let _ = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

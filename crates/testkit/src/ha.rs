//! A highly available deployment on loopback for the failover test and benchmark: a PostgreSQL
//! server of the test's own (so it can be stopped), N Pharos replicas on fixed ports (so a
//! restarted replica comes back where the balancer expects it), and the means to kill, stop and
//! restart each one.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use crate::peers::free_port;
use crate::pg_instance::PgInstance;
use crate::{Backend, Database, Options, Pharos};

pub struct HaCluster {
    pub pg: PgInstance,
    pub db: Arc<Database>,
    ports: Vec<u16>,
    replicas: Vec<Option<Pharos>>,
    options: Options,
    /// Log lines of replicas that were stopped or killed, prefixed with their index.
    retired_logs: Vec<String>,
}

impl HaCluster {
    /// Starts PostgreSQL and `n` replicas on it (at once, as a deployment does), each with
    /// `options` and its own fixed port.
    pub async fn start(n: usize, options: Options) -> HaCluster {
        let pg = PgInstance::start();
        let url = pg.create_database("pharos");
        let db = Database::existing(Backend::Postgres, &url);
        let mut cluster = HaCluster {
            pg,
            db,
            ports: (0..n).map(|_| free_port()).collect(),
            replicas: (0..n).map(|_| None).collect(),
            options,
            retired_logs: Vec::new(),
        };
        let starts: Vec<_> = (0..n).map(|i| cluster.launch(i)).collect();
        for (i, replica) in crate::join_all(starts).await.into_iter().enumerate() {
            cluster.replicas[i] = Some(replica);
        }
        cluster
    }

    fn launch(&self, i: usize) -> impl std::future::Future<Output = Pharos> {
        let options = self
            .options
            .clone()
            .env("PHAROS_SERVER_LISTEN", &self.address(i));
        let db = self.db.clone();
        async move { Pharos::start_with(db, options).await }
    }

    pub fn len(&self) -> usize {
        self.ports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// `127.0.0.1:port` of replica `i` (what the balancer is configured with).
    pub fn address(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.ports[i])
    }

    pub fn url(&self, i: usize) -> String {
        format!("http://{}", self.address(i))
    }

    pub fn addresses(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.address(i)).collect()
    }

    /// Replica `i`, which must be running.
    pub fn replica(&self, i: usize) -> &Pharos {
        self.replicas[i].as_ref().expect("replica is running")
    }

    pub fn replica_mut(&mut self, i: usize) -> &mut Pharos {
        self.replicas[i].as_mut().expect("replica is running")
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.replicas[i].is_some()
    }

    /// Starts replica `i` (again) on its port and waits until it is ready.
    pub async fn start_replica(&mut self, i: usize) {
        assert!(self.replicas[i].is_none(), "replica {i} is already running");
        self.replicas[i] = Some(self.launch(i).await);
    }

    /// `kill -9`: no drain, no goodbye; in-flight requests are cut.
    pub fn kill(&mut self, i: usize) {
        let replica = self.replicas[i].take().expect("replica is running");
        self.retire_logs(i, &replica);
        drop(replica); // Pharos' drop is SIGKILL
    }

    /// `kill -TERM` and wait for the exit (drain, in-flight requests, leases released).
    pub async fn terminate(&mut self, i: usize, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.replica(i).pid().expect("replica pid");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = self.replica_mut(i).wait_exit(timeout).await;
        // Whatever happened, the replica is gone now (dropping it kills a straggler).
        if let Some(replica) = self.replicas[i].take() {
            self.retire_logs(i, &replica);
        }
        exit
    }

    fn retire_logs(&mut self, i: usize, replica: &Pharos) {
        self.retired_logs
            .extend(replica.logs().into_iter().map(|l| format!("[{i}] {l}")));
    }

    /// Every log line of every replica this cluster ran (stopped ones included), prefixed with
    /// the replica's index.
    pub fn all_logs(&self) -> Vec<String> {
        let mut lines = self.retired_logs.clone();
        for (i, replica) in self.replicas.iter().enumerate() {
            if let Some(r) = replica {
                lines.extend(r.logs().into_iter().map(|l| format!("[{i}] {l}")));
            }
        }
        lines
    }

    /// Indexes of running replicas that exited by themselves (crashed).
    pub fn crashed(&mut self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.replicas[i].as_mut().is_some_and(|r| r.has_exited()))
            .collect()
    }

    /// Error log lines of every running replica, prefixed with its index.
    pub fn error_lines(&self) -> Vec<String> {
        self.replicas
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
            .flat_map(|(i, r)| {
                r.error_lines()
                    .into_iter()
                    .map(move |l| format!("[{i}] {l}"))
            })
            .collect()
    }
}

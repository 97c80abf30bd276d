//! Provisioning from files in Grafana's format: `<paths.provisioning>/datasources/*.yaml` and
//! dashboard providers in `<paths.provisioning>/dashboards/*.yaml` (see docs/provisioning.md).
//!
//! With many replicas, only the holder of the `provisioning` lease reads the files and writes:
//! it applies everything as soon as it takes the lease (so a fresh cluster is provisioned right
//! after the first replica starts), then re-scans on the providers' intervals. Every write is
//! keyed (dashboards by uid, datasources by uid or name) and skipped when the content hash stored
//! in the object's marker is unchanged, so re-applying is idempotent and a handover of the lease
//! mid-apply only repeats work. Deletions happen only after a complete, error-free read of a
//! provider's directory: a replica that cannot read the files deletes nothing.

mod dashboards;
mod datasources;
pub mod files;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pharos_store::Store;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::secrets::Secrets;

/// The lease whose holder applies the provisioning files.
pub const PROVISIONING_LEASE: &str = "provisioning";

/// How often the job wakes to see which providers are due.
const TICK: Duration = Duration::from_secs(1);

/// How often datasource files are re-read (Grafana reads them at start; re-reading lets a
/// replica rolled out with new files apply them without waiting for the lease to move).
const DATASOURCES_INTERVAL: Duration = Duration::from_secs(10);

/// The name written as the author of provisioned dashboard versions.
pub const ACTOR: &str = "provisioning";

/// The provisioning root of `config`, or `None` when provisioning is off or the directory is
/// missing (logged once at start).
pub fn root(config: &Config) -> Option<PathBuf> {
    let setting = config.raw.paths.provisioning.trim();
    if setting.is_empty() {
        tracing::info!("provisioning is off (paths.provisioning is empty)");
        return None;
    }
    let root = PathBuf::from(setting);
    if !root.is_dir() {
        tracing::info!(path = %root.display(), "no provisioning directory: provisioning is off");
        return None;
    }
    Some(root)
}

/// Starts competing for the provisioning lease; the holder runs [`Provisioner::run`].
pub fn start(
    store: &Store,
    config: &Config,
    member_id: &str,
) -> Option<pharos_cluster::LeaseRunner> {
    let root = root(config)?;
    tracing::info!(path = %root.display(), "provisioning from files");
    let provisioner = Provisioner {
        store: store.clone(),
        secrets: std::sync::Arc::new(Secrets::from_config(config)),
        root,
        reported: Default::default(),
    };
    Some(pharos_cluster::LeaseRunner::start(
        store.clone(),
        PROVISIONING_LEASE,
        member_id,
        config.lease_ttl,
        move |_lease| provisioner.clone().run(),
    ))
}

#[derive(Clone)]
pub struct Provisioner {
    pub store: Store,
    pub secrets: std::sync::Arc<Secrets>,
    pub root: PathBuf,
    /// Problems already logged: one that persists (a broken file, a title clash) is logged once,
    /// not on every re-scan, until it is resolved.
    pub reported: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl Provisioner {
    /// True the first time `key` (scope, then the problem) is seen since `scope` was last clean.
    pub fn first_report(&self, key: &str) -> bool {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        reported.insert(key.to_string())
    }

    /// `scope` had no problem this round: its problems will be logged again if they come back.
    pub fn resolved(&self, scope: &str) {
        let prefix = format!("{scope}\0");
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        reported.retain(|k| !k.starts_with(&prefix));
    }

    /// Applies everything at once, then re-applies what is due every tick, until the lease ends
    /// (the runner then drops this future; every write is its own transaction).
    pub async fn run(self) {
        let mut datasources = datasources::State::default();
        let mut due: HashMap<String, Instant> = HashMap::new();
        let mut next_datasources = Instant::now();
        loop {
            if Instant::now() >= next_datasources {
                datasources::apply(&self, &mut datasources).await;
                next_datasources = Instant::now() + DATASOURCES_INTERVAL;
            }
            for provider in self.providers() {
                let now = Instant::now();
                if due.get(&provider.name).is_some_and(|at| *at > now) {
                    continue;
                }
                due.insert(provider.name.clone(), now + provider.interval());
                dashboards::apply(&self, &provider).await;
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// The dashboard providers of every file in `dashboards/`; bad files are logged and left out,
    /// and a provider name used twice keeps its first definition.
    fn providers(&self) -> Vec<files::Provider> {
        let dir = self.root.join("dashboards");
        let paths = match files::yaml_files(&dir) {
            Ok(paths) => paths,
            Err(e) => {
                if self.first_report(&format!("providers\0{e}")) {
                    tracing::error!(error = %e, "reading dashboard providers failed");
                }
                return Vec::new();
            }
        };
        let mut clean = true;
        let mut providers: Vec<files::Provider> = Vec::new();
        for path in paths {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| files::FileError::new(&path, format!("cannot read: {e}")))
                .and_then(|text| files::parse_providers(&path, &text, &env_lookup));
            match parsed {
                Ok(file) => {
                    for provider in file.providers {
                        if providers.iter().any(|p| p.name == provider.name) {
                            clean = false;
                            let key = format!("providers\0{}\0{}", path.display(), provider.name);
                            if self.first_report(&key) {
                                tracing::error!(file = %path.display(), provider = %provider.name,
                                    "a dashboard provider of this name is defined twice; the second is ignored");
                            }
                        } else {
                            providers.push(provider);
                        }
                    }
                }
                Err(e) => {
                    clean = false;
                    if self.first_report(&format!("providers\0{e}")) {
                        tracing::error!(error = %e, "invalid dashboard provider file");
                    }
                }
            }
        }
        if clean {
            self.resolved("providers");
        }
        providers
    }
}

/// The process environment, for `$VAR` expansion.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Hex SHA-256 of `parts` joined by NUL bytes.
pub fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// A stable uid for something that has none: the same inputs give the same uid on every replica
/// and every start. 24 hex characters fit Grafana's 40-character uid limit.
pub fn derived_uid(kind: &str, parts: &[&str]) -> String {
    let mut all: Vec<&[u8]> = vec![kind.as_bytes()];
    all.extend(parts.iter().map(|p| p.as_bytes()));
    let mut uid = hash(&all);
    uid.truncate(24);
    uid
}

/// `path` relative to `base`, with `/` separators (the key of a dashboard file without a uid).
pub fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_uids_are_stable_valid_and_distinct() {
        let a = derived_uid("dashboard", &["main", "team/a.json"]);
        assert_eq!(a, derived_uid("dashboard", &["main", "team/a.json"]));
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, derived_uid("dashboard", &["main", "team/b.json"]));
        assert_ne!(a, derived_uid("dashboard", &["other", "team/a.json"]));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            derived_uid("dashboard", &["ab", "c"]),
            derived_uid("dashboard", &["a", "bc"])
        );
    }

    #[test]
    fn relative_paths_use_slashes() {
        let base = Path::new("/p/dash");
        assert_eq!(relative(base, Path::new("/p/dash/a/b.json")), "a/b.json");
        assert_eq!(relative(base, Path::new("/p/dash/c.json")), "c.json");
    }
}

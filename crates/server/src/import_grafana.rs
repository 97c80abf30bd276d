//! `pharos import-grafana --url URL --token TOKEN`: copies folders, dashboards, datasources and
//! alert rules from a running Grafana (or anything speaking its HTTP API, another Pharos
//! included) into this Pharos' database, idempotently: what is already here unchanged is left
//! alone, so a second run changes nothing.
//!
//! Only the HTTP API is read, with the token's permissions. Datasource secrets cannot be read
//! through it (Grafana never returns them): datasources are created without them and the summary
//! lists which fields the user must fill in again. Everything is written as the `import` actor
//! into one org (`--org-id`, default 1).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use pharos_store::{
    DataSourceRef, DataSourceSettings, DataSourceUpdate, FolderUpdate, NewDataSource,
    SaveDashboard, Store, StoreError,
};
use reqwest::StatusCode;
use serde_json::{Map, Value};

use crate::config::Config;

const ACTOR: &str = "import";
/// Grafana's search answers at most this many hits per page.
const PAGE: usize = 1000;

/// What happened to each kind of object, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub folders: Tally,
    pub dashboards: Tally,
    pub datasources: Tally,
    pub alert_rules: Tally,
    /// Things it could not do, and things the user must finish (secrets), one line each.
    pub notes: Vec<String>,
}

impl ImportReport {
    /// Whether this run changed anything.
    pub fn changed(&self) -> bool {
        [
            &self.folders,
            &self.dashboards,
            &self.datasources,
            &self.alert_rules,
        ]
        .iter()
        .any(|t| t.created + t.updated > 0)
    }
}

/// The source: a base URL and how to authenticate there.
struct Source {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Source {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status();
        let body = resp.text().await.with_context(|| format!("GET {url}"))?;
        if status != StatusCode::OK {
            let short: String = body.chars().take(200).collect();
            anyhow::bail!("GET {url}: {status}: {short}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {url}: not JSON"))
    }
}

/// Runs the import (see the module documentation) and prints its summary.
pub async fn run(config: &Config, url: &str, token: &str, org_id: i64) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    let report = import(&store, url, token, org_id).await?;
    print_report(&report);
    store.close().await;
    Ok(())
}

/// The import itself, into `store` (migrated).
pub async fn import(
    store: &Store,
    url: &str,
    token: &str,
    org_id: i64,
) -> anyhow::Result<ImportReport> {
    let source = Source {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("making the HTTP client")?,
        base: url.trim_end_matches('/').to_string(),
        token: token.to_string(),
    };
    // Fails early, with the reason, when the URL or the token is wrong.
    source
        .get("/api/search?limit=1")
        .await
        .context("the source does not answer its API with this token")?;
    let mut report = ImportReport::default();
    import_folders(store, &source, org_id, &mut report).await?;
    import_datasources(store, &source, org_id, &mut report).await?;
    import_dashboards(store, &source, org_id, &mut report).await?;
    import_alert_rules(store, &source, org_id, &mut report).await;
    Ok(report)
}

async fn import_folders(
    store: &Store,
    source: &Source,
    org_id: i64,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    for page in 1.. {
        let folders = source
            .get(&format!("/api/folders?limit={PAGE}&page={page}"))
            .await?;
        let folders = folders.as_array().cloned().unwrap_or_default();
        for folder in &folders {
            let uid = folder["uid"].as_str().unwrap_or_default();
            let title = folder["title"].as_str().unwrap_or_default();
            if folder
                .get("parentUid")
                .and_then(Value::as_str)
                .is_some_and(|p| !p.is_empty())
            {
                report.notes.push(format!(
                    "folder {title:?} ({uid}) is nested in Grafana; Pharos has one level, so it is imported at the top"
                ));
            }
            let outcome = match store.folder_by_uid(org_id, uid).await {
                Ok(existing) if existing.title == title => Ok(Outcome::Unchanged),
                Ok(_) => store
                    .update_folder(
                        org_id,
                        uid,
                        FolderUpdate {
                            title: Some(title.to_string()),
                            overwrite: true,
                            ..Default::default()
                        },
                        ACTOR,
                    )
                    .await
                    .map(|_| Outcome::Updated),
                Err(StoreError::NotFound) => store
                    .create_folder(org_id, Some(uid), title, ACTOR)
                    .await
                    .map(|_| Outcome::Created),
                Err(e) => Err(e),
            };
            count(
                &mut report.folders,
                &mut report.notes,
                "folder",
                title,
                outcome,
            );
        }
        if folders.len() < PAGE {
            break;
        }
    }
    Ok(())
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

fn count(
    tally: &mut Tally,
    notes: &mut Vec<String>,
    kind: &str,
    name: &str,
    outcome: Result<Outcome, StoreError>,
) {
    match outcome {
        Ok(Outcome::Created) => tally.created += 1,
        Ok(Outcome::Updated) => tally.updated += 1,
        Ok(Outcome::Unchanged) => tally.unchanged += 1,
        Err(e) => {
            tally.failed += 1;
            notes.push(format!("{kind} {name:?}: not imported: {e}"));
        }
    }
}

/// A dashboard's JSON without what each server assigns itself.
fn comparable(dashboard: &Map<String, Value>) -> Map<String, Value> {
    let mut d = dashboard.clone();
    d.remove("id");
    d.remove("version");
    d
}

async fn import_dashboards(
    store: &Store,
    source: &Source,
    org_id: i64,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let mut uids = Vec::new();
    for page in 1.. {
        let hits = source
            .get(&format!(
                "/api/search?type=dash-db&limit={PAGE}&page={page}"
            ))
            .await?;
        let hits = hits.as_array().cloned().unwrap_or_default();
        uids.extend(
            hits.iter()
                .filter_map(|h| h["uid"].as_str().map(str::to_string)),
        );
        if hits.len() < PAGE {
            break;
        }
    }
    let total = uids.len();
    for (i, uid) in uids.iter().enumerate() {
        if (i + 1) % 100 == 0 {
            eprintln!("import-grafana: dashboards {}/{total}", i + 1);
        }
        let fetched = match source.get(&format!("/api/dashboards/uid/{uid}")).await {
            Ok(v) => v,
            Err(e) => {
                report.dashboards.failed += 1;
                report
                    .notes
                    .push(format!("dashboard {uid}: could not be read: {e:#}"));
                continue;
            }
        };
        let Some(dashboard) = fetched["dashboard"].as_object() else {
            report.dashboards.failed += 1;
            report
                .notes
                .push(format!("dashboard {uid}: the answer has no dashboard"));
            continue;
        };
        let folder_uid = fetched["meta"]["folderUid"]
            .as_str()
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        let title = dashboard["title"].as_str().unwrap_or(uid).to_string();
        let outcome = match store.dashboard_by_uid(org_id, uid).await {
            Ok(existing) => {
                let here: Map<String, Value> =
                    serde_json::from_str(&existing.data).unwrap_or_default();
                if comparable(&here) == comparable(dashboard) && existing.folder_uid == folder_uid {
                    Ok(Outcome::Unchanged)
                } else {
                    save(store, org_id, dashboard, folder_uid)
                        .await
                        .map(|_| Outcome::Updated)
                }
            }
            Err(StoreError::NotFound) => save(store, org_id, dashboard, folder_uid)
                .await
                .map(|_| Outcome::Created),
            Err(e) => Err(e),
        };
        count(
            &mut report.dashboards,
            &mut report.notes,
            "dashboard",
            &title,
            outcome,
        );
    }
    Ok(())
}

async fn save(
    store: &Store,
    org_id: i64,
    dashboard: &Map<String, Value>,
    folder_uid: Option<String>,
) -> Result<(), StoreError> {
    let mut dashboard = dashboard.clone();
    // Ids belong to the source; versions continue this server's history.
    dashboard.remove("id");
    dashboard.remove("version");
    store
        .save_dashboard(SaveDashboard {
            org_id,
            dashboard,
            folder_uid,
            overwrite: true,
            message: "imported".into(),
            actor: ACTOR.into(),
            restored_from: 0,
            request_key: None,
        })
        .await
        .map(|_| ())
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn settings_of(ds: &Value) -> DataSourceSettings {
    DataSourceSettings {
        name: text(ds, "name"),
        kind: text(ds, "type"),
        access: text(ds, "access"),
        url: text(ds, "url"),
        user: text(ds, "user"),
        database: text(ds, "database"),
        basic_auth: ds["basicAuth"].as_bool().unwrap_or(false),
        basic_auth_user: text(ds, "basicAuthUser"),
        with_credentials: ds["withCredentials"].as_bool().unwrap_or(false),
        is_default: ds["isDefault"].as_bool().unwrap_or(false),
        json_data: match &ds["jsonData"] {
            Value::Object(o) if !o.is_empty() => Value::Object(o.clone()).to_string(),
            _ => String::new(),
        },
        read_only: false,
    }
}

/// The settings a stored datasource has, in the shape a save takes.
fn settings_here(here: &pharos_store::StoredDataSource) -> DataSourceSettings {
    DataSourceSettings {
        name: here.name.clone(),
        kind: here.kind.clone(),
        access: here.access.clone(),
        url: here.url.clone(),
        user: here.user.clone(),
        database: here.database.clone(),
        basic_auth: here.basic_auth,
        basic_auth_user: here.basic_auth_user.clone(),
        with_credentials: here.with_credentials,
        is_default: here.is_default,
        json_data: here.json_data.clone(),
        read_only: here.read_only,
    }
}

/// Whether an update would change nothing (read-only marks are this server's own).
fn same_settings(a: &DataSourceSettings, b: &DataSourceSettings) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.read_only = false;
    b.read_only = false;
    if same_json_data(&a.json_data, &b.json_data) {
        a.json_data.clear();
        b.json_data.clear();
    }
    a == b
}

/// Two `jsonData` texts hold the same object (key order and `{}` versus empty aside).
fn same_json_data(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Value {
        if s.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(s).unwrap_or(Value::Null)
        }
    };
    parse(a) == parse(b)
}

async fn import_datasources(
    store: &Store,
    source: &Source,
    org_id: i64,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let list = source.get("/api/datasources").await?;
    for summary in list.as_array().cloned().unwrap_or_default() {
        let uid = text(&summary, "uid");
        // The list leaves fields out (jsonData in some versions): read each one.
        let ds = match source.get(&format!("/api/datasources/uid/{uid}")).await {
            Ok(ds) => ds,
            Err(e) => {
                report.datasources.failed += 1;
                report
                    .notes
                    .push(format!("datasource {uid}: could not be read: {e:#}"));
                continue;
            }
        };
        let settings = settings_of(&ds);
        let secrets: Vec<String> = ds["secureJsonFields"]
            .as_object()
            .map(|f| {
                f.iter()
                    .filter(|(_, set)| set.as_bool() == Some(true))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let outcome = match store
            .datasource(org_id, &DataSourceRef::Uid(uid.clone()))
            .await
        {
            Ok(here) => {
                if same_settings(&settings_here(&here), &settings) {
                    Ok(Outcome::Unchanged)
                } else {
                    store
                        .update_datasource(
                            org_id,
                            &DataSourceRef::Uid(uid.clone()),
                            DataSourceUpdate {
                                uid: None,
                                settings: settings.clone(),
                                // Secrets already filled in here stay.
                                secure_changes: BTreeMap::new(),
                                version: None,
                            },
                        )
                        .await
                        .map(|_| Outcome::Updated)
                }
            }
            Err(StoreError::NotFound) => {
                let created = store
                    .create_datasource(
                        org_id,
                        NewDataSource {
                            uid: Some(uid.clone()),
                            settings: settings.clone(),
                            secure_json_data: BTreeMap::new(),
                        },
                    )
                    .await
                    .map(|_| Outcome::Created);
                if created.is_ok() && !secrets.is_empty() {
                    report.notes.push(format!(
                        "datasource {:?} ({uid}): fill in its secrets, which the API never returns: {}",
                        settings.name,
                        secrets.join(", ")
                    ));
                }
                created
            }
            Err(e) => Err(e),
        };
        count(
            &mut report.datasources,
            &mut report.notes,
            "datasource",
            &settings.name,
            outcome,
        );
    }
    Ok(())
}

/// Alert rules from the provisioning API, after their folders and datasources (each rule is
/// checked against both). A source without Grafana's alerting API is noted, not an error.
async fn import_alert_rules(
    store: &Store,
    source: &Source,
    org_id: i64,
    report: &mut ImportReport,
) {
    let rules = match source.get("/api/v1/provisioning/alert-rules").await {
        Ok(Value::Array(rules)) => rules,
        Ok(other) => {
            report.notes.push(format!(
                "alert rules: the source's list is not a list ({}); none imported",
                other.to_string().chars().take(80).collect::<String>()
            ));
            return;
        }
        Err(e) => {
            report.notes.push(format!(
                "alert rules: could not be listed ({e:#}); none imported"
            ));
            return;
        }
    };
    // Each group's evaluation interval, read once.
    let mut intervals: BTreeMap<(String, String), i64> = BTreeMap::new();
    for rule in rules {
        let title = text(&rule, "title");
        let group = (text(&rule, "folderUID"), text(&rule, "ruleGroup"));
        let interval = match intervals.get(&group) {
            Some(i) => *i,
            None => {
                let path = format!(
                    "/api/v1/provisioning/folder/{}/rule-groups/{}",
                    encode(&group.0),
                    encode(&group.1)
                );
                let interval = source
                    .get(&path)
                    .await
                    .ok()
                    .and_then(|g| g["interval"].as_i64())
                    .unwrap_or(60);
                intervals.insert(group, interval);
                interval
            }
        };
        use crate::api::alerting::{import_rule, Imported};
        match import_rule(store, org_id, &rule, interval).await {
            Ok(Imported::Created) => report.alert_rules.created += 1,
            Ok(Imported::Updated) => report.alert_rules.updated += 1,
            Ok(Imported::Unchanged) => report.alert_rules.unchanged += 1,
            Err(why) => {
                report.alert_rules.failed += 1;
                report
                    .notes
                    .push(format!("alert rule {title:?}: not imported: {why}"));
            }
        }
    }
}

/// A path segment, percent-encoded (group names may hold spaces and slashes).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn print_report(report: &ImportReport) {
    println!(
        "{:<12} {:>8} {:>8} {:>10} {:>7}",
        "", "created", "updated", "unchanged", "failed"
    );
    for (kind, t) in [
        ("folders", &report.folders),
        ("dashboards", &report.dashboards),
        ("datasources", &report.datasources),
        ("alert rules", &report.alert_rules),
    ] {
        println!(
            "{kind:<12} {:>8} {:>8} {:>10} {:>7}",
            t.created, t.updated, t.unchanged, t.failed
        );
    }
    for note in &report.notes {
        println!("- {note}");
    }
    if !report.changed() {
        println!("nothing changed: this Pharos already had everything the source has");
    }
}

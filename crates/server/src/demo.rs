//! Demo data: on first start with an empty database, a TestData datasource and a demo dashboard,
//! so a new install shows graphs at once (`server.demo_data`, on by default).
//!
//! "Empty" means the main org has no datasource and no dashboard. The datasource is created by
//! one store call that checks emptiness and inserts under the org's lock, so of several replicas
//! starting together on an empty database exactly one creates it; that replica then saves the
//! dashboard. A later start finds the datasource (or anything the users made) and does nothing,
//! and so does a start after the user deleted the demo.

use anyhow::Context;
use pharos_store::{DataSourceSettings, NewDataSource, SaveDashboard, Store, StoreError};
use serde_json::Value;

use crate::config::Config;

/// The demo datasource's uid, which the demo dashboard's panels name.
pub const DATASOURCE_UID: &str = "pharos-testdata";
pub const DATASOURCE_NAME: &str = "TestData";
pub const DATASOURCE_TYPE: &str = "grafana-testdata-datasource";

const DASHBOARD: &str = include_str!("demo/dashboard.json");

/// The org demo data goes into (Grafana's "Main Org.").
const ORG_ID: i64 = 1;

/// Seeds the demo data when enabled and the database is empty. A failure is logged, never fatal:
/// Pharos serves fine without its demo.
pub async fn seed(store: &Store, config: &Config) {
    if !config.raw.server.demo_data {
        return;
    }
    if let Err(e) = try_seed(store).await {
        tracing::warn!(error = format!("{e:#}"), "creating the demo data failed");
    }
}

async fn try_seed(store: &Store) -> anyhow::Result<()> {
    let new = NewDataSource {
        uid: Some(DATASOURCE_UID.into()),
        settings: DataSourceSettings {
            name: DATASOURCE_NAME.into(),
            kind: DATASOURCE_TYPE.into(),
            access: "proxy".into(),
            is_default: true,
            json_data: "{}".into(),
            ..Default::default()
        },
        secure_json_data: Default::default(),
    };
    let created = match store.create_datasource_if_org_empty(ORG_ID, new).await {
        Ok(Some(ds)) => ds,
        // Not empty, or another replica's seeding won a uniqueness race.
        Ok(None) | Err(StoreError::AlreadyExists) => return Ok(()),
        Err(e) => return Err(e).context("creating the demo datasource"),
    };
    let dashboard = match serde_json::from_str::<Value>(DASHBOARD)
        .context("the embedded demo dashboard is not JSON")?
    {
        Value::Object(map) => map,
        _ => anyhow::bail!("the embedded demo dashboard is not a JSON object"),
    };
    let saved = store
        .save_dashboard(SaveDashboard {
            org_id: ORG_ID,
            dashboard,
            folder_uid: None,
            overwrite: false,
            message: "Demo dashboard created on first start".into(),
            actor: "pharos".into(),
            restored_from: 0,
            request_key: None,
        })
        .await;
    match saved {
        Ok(d) => tracing::info!(
            datasource = %created.uid,
            dashboard = %d.uid,
            "created the demo datasource and dashboard (server.demo_data = false turns this off)"
        ),
        // A user saved a dashboard of the same uid or title in the meantime: theirs stays.
        Err(StoreError::AlreadyExists | StoreError::NameExists | StoreError::VersionMismatch) => {}
        Err(e) => return Err(e).context("saving the demo dashboard"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_dashboard_uses_the_demo_datasource() {
        let d: Value = serde_json::from_str(DASHBOARD).unwrap();
        assert!(d.is_object());
        assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(DASHBOARD.contains(DATASOURCE_UID));
    }
}

//! Resolves datasources for the query engine: by uid, name, id, or the org's default, with
//! `secureJsonData` decrypted.
//!
//! Each org's datasources are read and decrypted once per cache generation (orgs hold few
//! datasources; queries resolve one per panel), so a dashboard refresh costs no database round
//! trip for its datasources, and any write on any replica is seen after the next generation step
//! (see `cache.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use pharos_datasource::DataSource;
use pharos_store::StoredDataSource;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::secrets::{SecretError, Secrets};
use crate::state::AppState;

/// One org's datasources, as stored and as the engine sees them.
pub struct OrgDataSources {
    /// By name, case-insensitively (the store's order).
    pub items: Vec<Entry>,
}

pub struct Entry {
    pub stored: StoredDataSource,
    /// The datasource with its secrets decrypted, or why they did not decrypt.
    pub resolved: Result<Arc<DataSource>, SecretError>,
}

impl OrgDataSources {
    /// The org's default datasource, when it has one.
    pub fn default(&self) -> Option<&Entry> {
        self.items.iter().find(|e| e.stored.is_default)
    }
}

/// A stored datasource as the engine sees it; fails when a secret does not decrypt.
pub fn to_engine(stored: &StoredDataSource, secrets: &Secrets) -> Result<DataSource, SecretError> {
    let mut secure = BTreeMap::new();
    for (field, encrypted) in &stored.secure_json_data {
        secure.insert(field.clone(), secrets.decrypt(field, encrypted)?);
    }
    let json_data = match serde_json::from_str::<Value>(&stored.json_data) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Default::default()),
    };
    Ok(DataSource {
        id: stored.id,
        uid: stored.uid.clone(),
        name: stored.name.clone(),
        kind: stored.kind.clone(),
        url: stored.url.clone(),
        database: stored.database.clone(),
        user: stored.user.clone(),
        basic_auth: stored.basic_auth,
        basic_auth_user: stored.basic_auth_user.clone(),
        json_data,
        secure,
        version: stored.version,
    })
}

/// The org's datasources, from the cache or the database.
pub async fn org(state: &AppState, org_id: i64) -> ApiResult<Arc<OrgDataSources>> {
    crate::cache::org_datasources(state, org_id, async {
        let stored = state.store.list_datasources(org_id).await?;
        let secrets = Secrets::from_config(&state.config);
        let items = stored
            .into_iter()
            .map(|stored| {
                let resolved = to_engine(&stored, &secrets).map(Arc::new);
                Entry { stored, resolved }
            })
            .collect();
        Ok(Arc::new(OrgDataSources { items }))
    })
    .await
}

/// The engine's view of `entry`, or a 500 when its secrets do not decrypt (logged).
pub fn usable(entry: &Entry) -> ApiResult<DataSource> {
    match &entry.resolved {
        Ok(ds) => Ok((**ds).clone()),
        Err(e) => {
            tracing::error!(
                datasource = %entry.stored.uid,
                org = entry.stored.org_id,
                error = %e,
                "cannot decrypt the datasource's secure settings"
            );
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "The secure settings of datasource {:?} cannot be decrypted with this \
                     replica's security.secret_key; save them again or fix the key",
                    entry.stored.name
                ),
            ))
        }
    }
}

async fn find(
    state: &AppState,
    org_id: i64,
    matches: impl Fn(&StoredDataSource) -> bool,
) -> ApiResult<Option<DataSource>> {
    let all = org(state, org_id).await?;
    all.items
        .iter()
        .find(|e| matches(&e.stored))
        .map(usable)
        .transpose()
}

pub async fn by_uid(state: &AppState, org_id: i64, uid: &str) -> ApiResult<Option<DataSource>> {
    find(state, org_id, |d| d.uid == uid).await
}

pub async fn by_name(state: &AppState, org_id: i64, name: &str) -> ApiResult<Option<DataSource>> {
    find(state, org_id, |d| d.name == name).await
}

pub async fn by_id(state: &AppState, org_id: i64, id: i64) -> ApiResult<Option<DataSource>> {
    find(state, org_id, |d| d.id == id).await
}

/// The org's default datasource; with `kind`, the default when it is of that kind, else the
/// oldest datasource of that kind. Without `kind` and without a default, the oldest datasource.
pub async fn default_for(
    state: &AppState,
    org_id: i64,
    kind: Option<&str>,
) -> ApiResult<Option<DataSource>> {
    let all = org(state, org_id).await?;
    let fits = |d: &StoredDataSource| kind.is_none_or(|k| same_kind(&d.kind, k));
    let chosen = match all.default().filter(|e| fits(&e.stored)) {
        Some(e) => Some(e),
        None => all
            .items
            .iter()
            .filter(|e| fits(&e.stored))
            .min_by_key(|e| e.stored.id),
    };
    chosen.map(usable).transpose()
}

/// Plugin ids that name the same kind (TestData has two).
pub fn same_kind(a: &str, b: &str) -> bool {
    fn norm(k: &str) -> &str {
        match k {
            "testdata" => "grafana-testdata-datasource",
            other => other,
        }
    }
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_map_to_the_engine_with_secrets_decrypted() {
        let secrets = Secrets::new("a key of sixteen+ chars");
        let mut stored = StoredDataSource {
            id: 7,
            org_id: 1,
            uid: "prom".into(),
            name: "Prom".into(),
            kind: "prometheus".into(),
            access: "proxy".into(),
            url: "http://127.0.0.1:9090".into(),
            user: "u".into(),
            database: "db".into(),
            basic_auth: true,
            basic_auth_user: "alice".into(),
            with_credentials: false,
            is_default: true,
            json_data: r#"{"httpMethod":"GET"}"#.into(),
            secure_json_data: BTreeMap::from([(
                "basicAuthPassword".to_string(),
                secrets.encrypt("basicAuthPassword", "s3cret").unwrap(),
            )]),
            read_only: false,
            version: 3,
            created: 0,
            updated: 0,
        };
        let ds = to_engine(&stored, &secrets).unwrap();
        assert_eq!(ds.secret("basicAuthPassword"), Some("s3cret"));
        assert_eq!(ds.json_str("httpMethod"), Some("GET"));
        assert_eq!((ds.id, ds.version, ds.basic_auth), (7, 3, true));
        assert_eq!(ds.basic_auth_user, "alice");
        stored
            .secure_json_data
            .insert("password".into(), "v1:garbage".into());
        assert!(to_engine(&stored, &secrets).is_err());
        assert!(same_kind("testdata", "grafana-testdata-datasource"));
        assert!(!same_kind("prometheus", "influxdb"));
    }
}

//! `/api/v1/provisioning/alert-rules` and `/api/v1/provisioning/folder/{folderUid}/rule-groups/
//! {group}`: Grafana's provisioning API for alert rules and rule groups.
//!
//! A rule is checked at save time with `pharos_alerting::compile_rule` (the scheduler's own
//! validation: expressions, cycles, templates, `for`), then against the org: its folder must
//! exist, every query's datasource must be one of the org's (`__expr__` is the expression
//! pseudo-datasource), and a Prometheus query must have an `expr`. Failures are 400
//! `{"message": "invalid alert rule: ..."}`, as Grafana words them.
//!
//! The rule is stored as its provisioning JSON; uid, folder, group, title and provenance are
//! columns and win over the JSON on the way out. Answers carry `version` (Pharos' addition): a
//! PUT that sends a `version` other than the stored one is refused with 409, as Grafana answers an
//! optimistic-lock failure; a PUT without one overwrites.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pharos_alerting::model::{AlertRule, RuleGroup};
use pharos_alerting::{compile_rule, validate_group};
use pharos_datasource::QueryError;
use pharos_store::{AlertRuleGroupUpdate, GroupRule, NewAlertRule, StoreError};
use serde_json::{json, Value};

use super::provenance;
use crate::api::rfc3339;
use crate::auth::{Editor, Viewer};
use crate::datasources as resolver;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;

/// The interval of a group that a rule created into a new group gets (Grafana's default
/// evaluation interval).
pub const DEFAULT_GROUP_INTERVAL_SECONDS: i64 = 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/provisioning/alert-rules", get(list).post(create))
        .route(
            "/api/v1/provisioning/alert-rules/{uid}",
            get(get_one).put(update).delete(delete),
        )
        .route(
            "/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group}",
            get(get_group).put(put_group).delete(delete_group),
        )
}

fn invalid(message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid alert rule: {message}"))
}

fn rule_not_found() -> ApiError {
    ApiError::not_found("Alert rule not found")
}

fn store_error(err: StoreError, title: &str) -> ApiError {
    match err {
        StoreError::NotFound => rule_not_found(),
        StoreError::VersionMismatch => ApiError::conflict(
            "The alert rule has been changed by someone else (its version is not the one sent); \
             reload it and try again",
        )
        .with_status_word("version-mismatch"),
        StoreError::NameExists if title.is_empty() => {
            invalid("a rule with one of these titles already exists in this folder")
        }
        StoreError::NameExists => invalid(format!(
            "a rule titled {title:?} already exists in this folder"
        )),
        StoreError::AlreadyExists => invalid("the uid is already used by another alert rule"),
        StoreError::Invalid(message) => invalid(message),
        other => ApiError::from_store(other, "Alert rule"),
    }
}

/// A rule as answered: the stored JSON with the columns written over it, plus `version`.
fn rule_json(stored: &pharos_store::AlertRule) -> ApiResult<Value> {
    let mut rule: AlertRule = serde_json::from_str(&stored.data).map_err(|e| {
        tracing::error!(rule = %stored.uid, error = %e, "a stored alert rule does not parse");
        ApiError::internal()
    })?;
    rule.id = Some(numeric_id(stored.org_id, &stored.uid));
    rule.uid = Some(stored.uid.clone());
    rule.org_id = stored.org_id;
    rule.folder_uid = stored.folder_uid.clone();
    rule.rule_group = stored.rule_group.clone();
    rule.title = stored.title.clone();
    rule.updated = Some(rfc3339(stored.updated_at));
    rule.provenance = (!stored.provenance.is_empty()).then(|| stored.provenance.clone());
    rule.extra.remove("version");
    let mut value = serde_json::to_value(&rule).map_err(|_| ApiError::internal())?;
    value["version"] = json!(stored.version);
    Ok(value)
}

/// Grafana gives every rule an integer `id` beside its uid, and clients rely on the field being
/// there (grafana-backup deletes it before a restore). Rules here are keyed by uid alone, so the id
/// is derived from (org, uid): stable across replicas, restarts and restores, positive, and below
/// 2^53 so JavaScript clients read it exactly. Nothing looks rules up by it.
fn numeric_id(org_id: i64, uid: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{org_id}/{uid}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    let id = (u64::from_be_bytes(bytes) >> 11) as i64;
    id.max(1)
}

/// Takes the `version` a client sent (Pharos' optimistic-concurrency field) out of the rule.
fn take_version(rule: &mut AlertRule) -> ApiResult<Option<i64>> {
    match rule.extra.remove("version") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(_) => Err(ApiError::bad_request("version must be an integer")),
    }
}

/// The JSON kept in the store: the rule as sent, with the fields the columns own normalised.
fn stored_data(rule: &AlertRule, org_id: i64) -> ApiResult<String> {
    let mut rule = rule.clone();
    rule.id = None;
    rule.org_id = org_id;
    rule.updated = None;
    rule.provenance = None;
    serde_json::to_string(&rule).map_err(|_| ApiError::internal())
}

/// Everything checked at save time beyond what the store checks: the rule itself
/// (`compile_rule`), its folder, its datasources and their queries.
async fn check_rule(state: &AppState, org_id: i64, rule: &AlertRule) -> ApiResult<()> {
    if rule.extra.get("record").is_some_and(|r| !r.is_null()) {
        return Err(invalid("recording rules are not supported"));
    }
    if rule.folder_uid.trim().is_empty() {
        return Err(invalid("folderUID is required"));
    }
    if rule.rule_group.trim().is_empty() {
        return Err(invalid("ruleGroup is required"));
    }
    compile_rule(rule).map_err(invalid)?;
    check_folder(state, org_id, &rule.folder_uid).await?;
    check_queries(state, org_id, rule, QueryCheck::AskDatasources).await
}

async fn check_folder(state: &AppState, org_id: i64, folder_uid: &str) -> ApiResult<()> {
    match state.store.folder_by_uid(org_id, folder_uid).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(invalid(format!(
            "folder does not exist (folderUID {folder_uid:?})"
        ))),
        Err(e) => Err(ApiError::from_store(e, "Folder")),
    }
}

/// How far [`check_queries`] goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum QueryCheck {
    /// Every query's datasource is one of the org's (the preview: what the datasource says of
    /// the query is its answer there).
    DatasourcesOnly,
    /// Also ask each datasource whether it takes the query (a rule save).
    AskDatasources,
}

/// The longest a save waits for a datasource's opinion of a query.
const VALIDATION_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn check_queries(
    state: &AppState,
    org_id: i64,
    rule: &AlertRule,
    how: QueryCheck,
) -> ApiResult<()> {
    let datasources = resolver::org(state, org_id).await?;
    for query in rule.data.iter().filter(|q| !q.is_expression()) {
        let Some(entry) = datasources
            .items
            .iter()
            .find(|e| e.stored.uid == query.datasource_uid)
        else {
            return Err(invalid(format!(
                "query {}: data source {:?} not found",
                query.ref_id, query.datasource_uid
            )));
        };
        if entry.stored.kind == "prometheus" {
            let expr = query
                .model
                .get("expr")
                .and_then(Value::as_str)
                .unwrap_or("");
            if expr.trim().is_empty() {
                return Err(invalid(format!(
                    "query {}: the Prometheus query (model.expr) is empty",
                    query.ref_id
                )));
            }
        }
        if how == QueryCheck::AskDatasources {
            ask_datasource(state, entry, query).await?;
        }
    }
    Ok(())
}

/// Runs `query` once at now against its datasource, whose own parser is the judge: an answer
/// that the query is wrong (Prometheus' `bad_data`, an unknown TestData scenario, ...) refuses
/// the save with the datasource's words. A datasource that cannot be reached, or does not answer
/// in time, says nothing about the query: the save goes on (with a warning in the log) and the
/// rule's evaluations report the error.
async fn ask_datasource(
    state: &AppState,
    entry: &resolver::Entry,
    query: &pharos_alerting::AlertQuery,
) -> ApiResult<()> {
    let datasource = match resolver::usable(entry) {
        Ok(ds) => ds,
        Err(e) => {
            tracing::warn!(datasource = %entry.stored.uid, error = %e.message, "an alert rule's query could not be checked at save: its datasource is not usable");
            return Ok(());
        }
    };
    let mut item = crate::alerting::query_item(query);
    if datasource.kind == "prometheus" {
        // One instant evaluation is all a check needs: the cheapest question Prometheus parses
        // the whole expression for.
        item.model.insert("instant".into(), Value::Bool(true));
        item.model.insert("range".into(), Value::Bool(false));
    }
    let at_ms = super::now_ms();
    let range = crate::alerting::query_range(query, at_ms);
    let timeout = VALIDATION_TIMEOUT.min(state.config.alerting_evaluation_timeout);
    let run = state.engine.query(&datasource, &item, range, at_ms, true);
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(QueryError::BadQuery(message))) => {
            // Some sources already name the query; say it once.
            let prefix = format!("query {}: ", query.ref_id);
            let message = message.strip_prefix(&prefix).unwrap_or(&message);
            Err(invalid(format!("{prefix}{message}")))
        }
        Ok(Err(e)) => {
            tracing::warn!(datasource = %entry.stored.uid, query = %query.ref_id, error = %e, "an alert rule's query could not be checked at save: its datasource did not answer; the rule is saved and its evaluations will report the error");
            Ok(())
        }
        Err(_) => {
            tracing::warn!(datasource = %entry.stored.uid, query = %query.ref_id, "an alert rule's query could not be checked at save: its datasource did not answer within {timeout:?}; the rule is saved");
            Ok(())
        }
    }
}

// ------------------------------------------------------------------ single rules

/// `GET /api/v1/provisioning/alert-rules`
async fn list(State(state): State<AppState>, Viewer(who): Viewer) -> ApiResult<Json<Value>> {
    let rules = state
        .store
        .alert_rules(who.org_id, None, None)
        .await
        .map_err(|e| ApiError::from_store(e, "Alert rule"))?;
    let items = rules.iter().map(rule_json).collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(Value::Array(items)))
}

/// `GET /api/v1/provisioning/alert-rules/:uid`
async fn get_one(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let rule = state
        .store
        .alert_rule(who.org_id, &uid)
        .await
        .map_err(|e| store_error(e, ""))?;
    Ok(Json(rule_json(&rule)?))
}

/// `POST /api/v1/provisioning/alert-rules` → 201 with the rule. A rule of a group that does not
/// exist yet creates the group with the default interval; an existing group keeps its own.
async fn create(
    State(state): State<AppState>,
    Editor(who): Editor,
    headers: HeaderMap,
    JsonBody(mut rule): JsonBody<AlertRule>,
) -> ApiResult<Response> {
    take_version(&mut rule)?;
    check_rule(&state, who.org_id, &rule).await?;
    let new = NewAlertRule {
        uid: rule.uid.clone().unwrap_or_default(),
        folder_uid: rule.folder_uid.clone(),
        rule_group: rule.rule_group.clone(),
        title: rule.title.clone(),
        data: stored_data(&rule, who.org_id)?,
        provenance: provenance(&headers),
    };
    let stored = state
        .store
        .create_alert_rule(who.org_id, &new, DEFAULT_GROUP_INTERVAL_SECONDS)
        .await
        .map_err(|e| store_error(e, &rule.title))?;
    tracing::info!(rule = %stored.uid, by = %who.login, "alert rule created");
    Ok((StatusCode::CREATED, Json(rule_json(&stored)?)).into_response())
}

/// `PUT /api/v1/provisioning/alert-rules/:uid` → 200 with the rule.
async fn update(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
    headers: HeaderMap,
    JsonBody(mut rule): JsonBody<AlertRule>,
) -> ApiResult<Json<Value>> {
    let version = take_version(&mut rule)?;
    rule.uid = Some(uid.clone());
    check_rule(&state, who.org_id, &rule).await?;
    let new = NewAlertRule {
        uid,
        folder_uid: rule.folder_uid.clone(),
        rule_group: rule.rule_group.clone(),
        title: rule.title.clone(),
        data: stored_data(&rule, who.org_id)?,
        provenance: provenance(&headers),
    };
    let stored = state
        .store
        .update_alert_rule(who.org_id, &new, version, DEFAULT_GROUP_INTERVAL_SECONDS)
        .await
        .map_err(|e| store_error(e, &rule.title))?;
    Ok(Json(rule_json(&stored)?))
}

/// `DELETE /api/v1/provisioning/alert-rules/:uid` → 204.
async fn delete(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_alert_rule(who.org_id, &uid)
        .await
        .map_err(|e| store_error(e, ""))?;
    tracing::info!(rule = %uid, by = %who.login, "alert rule deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ groups

fn group_not_found() -> ApiError {
    ApiError::not_found("Rule group not found")
}

fn group_json(group: &pharos_store::AlertRuleGroup) -> ApiResult<Value> {
    let rules = group
        .rules
        .iter()
        .map(rule_json)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json!({
        "title": group.name,
        "folderUid": group.folder_uid,
        "interval": group.interval_seconds,
        "rules": rules,
    }))
}

/// `GET /api/v1/provisioning/folder/:folderUid/rule-groups/:group`
async fn get_group(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path((folder_uid, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let group = match state
        .store
        .alert_rule_group(who.org_id, &folder_uid, &name)
        .await
    {
        Ok(g) => g,
        Err(StoreError::NotFound) => return Err(group_not_found()),
        Err(e) => return Err(ApiError::from_store(e, "Rule group")),
    };
    Ok(Json(group_json(&group)?))
}

/// `PUT /api/v1/provisioning/folder/:folderUid/rule-groups/:group`: the group's interval and
/// its whole list of rules, replaced in one transaction (rules left out are deleted; an empty
/// list deletes the group). Folder and group come from the path, as in Grafana.
async fn put_group(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path((folder_uid, name)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(mut group): JsonBody<RuleGroup>,
) -> ApiResult<Json<Value>> {
    group.title = name.clone();
    group.folder_uid = folder_uid.clone();
    let mut versions = Vec::with_capacity(group.rules.len());
    for rule in &mut group.rules {
        rule.folder_uid = folder_uid.clone();
        rule.rule_group = name.clone();
        versions.push(take_version(rule)?);
    }
    validate_group(&group).map_err(invalid)?;
    for rule in &group.rules {
        if rule.extra.get("record").is_some_and(|r| !r.is_null()) {
            return Err(invalid("recording rules are not supported"));
        }
        check_queries(&state, who.org_id, rule, QueryCheck::AskDatasources).await?;
    }
    check_folder(&state, who.org_id, &folder_uid).await?;
    let mut rules = Vec::with_capacity(group.rules.len());
    for (rule, version) in group.rules.iter().zip(versions) {
        rules.push(GroupRule {
            uid: rule.uid.clone().unwrap_or_default(),
            title: rule.title.clone(),
            data: stored_data(rule, who.org_id)?,
            version,
        });
    }
    let update = AlertRuleGroupUpdate {
        folder_uid,
        name,
        interval_seconds: group.interval,
        provenance: provenance(&headers),
        rules,
    };
    let saved = state
        .store
        .replace_alert_rule_group(who.org_id, &update)
        .await
        .map_err(|e| store_error(e, ""))?;
    tracing::info!(folder = %saved.folder_uid, group = %saved.name, rules = saved.rules.len(), by = %who.login, "rule group replaced");
    Ok(Json(group_json(&saved)?))
}

/// `DELETE /api/v1/provisioning/folder/:folderUid/rule-groups/:group` → 204.
async fn delete_group(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path((folder_uid, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    match state
        .store
        .delete_alert_rule_group(who.org_id, &folder_uid, &name)
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(group_not_found()),
        Err(e) => Err(ApiError::from_store(e, "Rule group")),
    }
}

/// What [`import_rule`] did with a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Created,
    Updated,
    Unchanged,
}

/// Writes a rule read from another server's provisioning API (`pharos import-grafana`) into
/// `org_id` by its uid: created, updated when it differs, or left alone. The checks a save makes
/// without a running server apply (the rule compiles, its folder and datasources exist); the
/// datasources are not asked about the queries. A new group gets `group_interval_seconds` (the
/// source's). Imported rules carry no provenance, so the UI may edit them.
pub async fn import_rule(
    store: &pharos_store::Store,
    org_id: i64,
    source: &Value,
    group_interval_seconds: i64,
) -> Result<Imported, String> {
    let mut rule: AlertRule = serde_json::from_value(source.clone())
        .map_err(|e| format!("not a Grafana alert rule: {e}"))?;
    rule.extra.remove("version");
    let uid = rule
        .uid
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or("the rule has no uid")?;
    if rule.extra.get("record").is_some_and(|r| !r.is_null()) {
        return Err("recording rules are not supported".into());
    }
    compile_rule(&rule).map_err(|e| format!("invalid alert rule: {e}"))?;
    match store.folder_by_uid(org_id, &rule.folder_uid).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(format!("its folder {:?} is not here", rule.folder_uid))
        }
        Err(e) => return Err(e.to_string()),
    }
    for query in rule.data.iter().filter(|q| !q.is_expression()) {
        let at = pharos_store::DataSourceRef::Uid(query.datasource_uid.clone());
        match store.datasource(org_id, &at).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(format!(
                    "query {}: data source {:?} is not here",
                    query.ref_id, query.datasource_uid
                ))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let data = stored_data(&rule, org_id).map_err(|_| "the rule does not serialise".to_string())?;
    let new = NewAlertRule {
        uid: uid.clone(),
        folder_uid: rule.folder_uid.clone(),
        rule_group: rule.rule_group.clone(),
        title: rule.title.clone(),
        data,
        provenance: String::new(),
    };
    match store.alert_rule(org_id, &uid).await {
        Ok(here) => {
            let same_data = serde_json::from_str::<Value>(&here.data).ok()
                == serde_json::from_str::<Value>(&new.data).ok();
            if same_data
                && here.folder_uid == new.folder_uid
                && here.rule_group == new.rule_group
                && here.title == new.title
            {
                return Ok(Imported::Unchanged);
            }
            store
                .update_alert_rule(org_id, &new, None, group_interval_seconds)
                .await
                .map(|_| Imported::Updated)
                .map_err(|e| e.to_string())
        }
        Err(StoreError::NotFound) => store
            .create_alert_rule(org_id, &new, group_interval_seconds)
            .await
            .map(|_| Imported::Created)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

//! `POST /api/v1/eval`: the rule editor's preview, as Grafana's. The request is a rule's `data`
//! (its queries and expressions) and optionally its `condition`; the queries run now through the
//! same path the scheduler takes (`crate::alerting::query_frames`), the expressions through the
//! same code, and the answer is every refId's frames, in `/api/ds/query`'s encoding, plus, when a
//! condition is given, one instance per series of the condition with the state the condition
//! gives it at this moment (no `for`: Normal, Alerting, NoData or Error).
//!
//! The input is validated as a rule save validates it (`compile_rule`, datasources of the org),
//! so a preview that answers 200 is a rule that saves. One failing query marks its own result
//! and whatever depends on it; the others still answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use pharos_alerting::compile::Step;
use pharos_alerting::eval::QueryResult;
use pharos_alerting::expr::{Data, Item};
use pharos_alerting::model::AlertRule;
use pharos_alerting::{compile_rule, evaluate, AlertQuery, EvalOutcome};
use pharos_datasource::{Field, FieldValues, Frame};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{now_ms, rules};
use crate::auth::Editor;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/eval", post(eval))
}

#[derive(Deserialize)]
struct EvalRequest {
    #[serde(default)]
    data: Vec<AlertQuery>,
    #[serde(default)]
    condition: Option<String>,
}

/// What one refId produced: frames (a query's own, or an expression's result as frames) or why
/// it has none.
enum RefResult {
    Frames(Arc<Vec<Frame>>),
    Failed(String),
}

async fn eval(
    State(state): State<AppState>,
    Editor(who): Editor,
    JsonBody(request): JsonBody<EvalRequest>,
) -> ApiResult<Json<Value>> {
    let condition = request
        .condition
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_string());
    // Checked as a rule is: a stand-in title, and without a condition any refId serves to
    // compile (the instances are then not computed).
    let compile_condition = condition
        .clone()
        .or_else(|| request.data.first().map(|q| q.ref_id.clone()))
        .unwrap_or_default();
    let rule = AlertRule {
        id: None,
        uid: None,
        org_id: who.org_id,
        folder_uid: String::new(),
        rule_group: String::new(),
        title: "preview".into(),
        condition: compile_condition,
        data: request.data,
        updated: None,
        no_data_state: Default::default(),
        exec_err_state: Default::default(),
        for_duration: "0s".into(),
        annotations: BTreeMap::new(),
        labels: BTreeMap::new(),
        provenance: None,
        is_paused: false,
        extra: Map::new(),
    };
    let compiled = compile_rule(&rule).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // The datasources must exist; what a datasource thinks of its query is the preview's answer
    // for that refId rather than a refusal.
    rules::check_queries(
        &state,
        who.org_id,
        &rule,
        rules::QueryCheck::DatasourcesOnly,
    )
    .await
    .map_err(|e| {
        ApiError::bad_request(
            e.message
                .trim_start_matches("invalid alert rule: ")
                .to_string(),
        )
    })?;

    let at_ms = now_ms();
    let timeout = state.config.alerting_evaluation_timeout;
    let queries: Vec<&AlertQuery> = rule.data.iter().filter(|q| !q.is_expression()).collect();
    let runs = queries.iter().map(|query| {
        let state = &state;
        async move {
            let frames =
                crate::alerting::query_frames(state, who.org_id, query, at_ms, timeout).await;
            (query.ref_id.clone(), frames)
        }
    });
    let query_frames: BTreeMap<String, Result<Arc<Vec<Frame>>, String>> =
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect();

    // Each refId in evaluation order: a query's frames as the expressions take them, then each
    // expression over what it reads.
    let mut inputs: BTreeMap<String, QueryResult> = BTreeMap::new();
    let mut data: BTreeMap<String, Data> = BTreeMap::new();
    let mut results: BTreeMap<String, RefResult> = BTreeMap::new();
    for step in &compiled.steps {
        match step {
            Step::Query { ref_id, .. } => {
                let outcome = match query_frames.get(ref_id) {
                    Some(Ok(frames)) => {
                        let converted = pharos_alerting::frames::data_from_frames(frames);
                        if let Ok(d) = &converted {
                            data.insert(ref_id.clone(), d.clone());
                        }
                        inputs.insert(ref_id.clone(), converted.clone());
                        match converted {
                            Ok(_) => RefResult::Frames(frames.clone()),
                            // The frames are still shown; the conversion's complaint is the error.
                            Err(e) => RefResult::Failed(e),
                        }
                    }
                    Some(Err(e)) => {
                        inputs.insert(ref_id.clone(), Err(e.clone()));
                        RefResult::Failed(e.clone())
                    }
                    None => RefResult::Failed("the query was not run".into()),
                };
                results.insert(ref_id.clone(), outcome);
            }
            Step::Expression { ref_id, expression } => {
                let failed_input = expression
                    .dependencies()
                    .into_iter()
                    .find(|d| !data.contains_key(d));
                let outcome = match failed_input {
                    Some(dep) => RefResult::Failed(format!("{dep} has no result")),
                    None => match expression.execute(&|name| data.get(name).cloned()) {
                        Ok(result) => {
                            let frames = frames_from_data(&result);
                            data.insert(ref_id.clone(), result);
                            RefResult::Frames(Arc::new(frames))
                        }
                        Err(e) => RefResult::Failed(e),
                    },
                };
                results.insert(ref_id.clone(), outcome);
            }
        }
    }

    let mut answer = Map::new();
    let encoded: Map<String, Value> = results
        .iter()
        .map(|(ref_id, result)| {
            let value = match result {
                RefResult::Frames(frames) => {
                    let frames: Vec<Value> = frames
                        .iter()
                        .map(|f| serde_json::to_value(f.encode(ref_id)).unwrap_or(Value::Null))
                        .collect();
                    json!({"status": 200, "frames": frames})
                }
                RefResult::Failed(error) => {
                    let frames = match query_frames.get(ref_id) {
                        Some(Ok(frames)) => frames
                            .iter()
                            .map(|f| serde_json::to_value(f.encode(ref_id)).unwrap_or(Value::Null))
                            .collect(),
                        _ => Vec::new(),
                    };
                    json!({"status": 400, "frames": frames, "error": error})
                }
            };
            (ref_id.clone(), value)
        })
        .collect();
    answer.insert("results".into(), Value::Object(encoded));
    if condition.is_some() {
        answer.insert(
            "instances".into(),
            Value::Array(instances(evaluate(&compiled, &inputs))),
        );
    }
    Ok(Json(Value::Object(answer)))
}

/// The condition's verdict per series, as the preview's `instances`.
fn instances(outcome: EvalOutcome) -> Vec<Value> {
    match outcome {
        EvalOutcome::Instances(list) => list
            .into_iter()
            .map(|instance| {
                let state = match instance.verdict {
                    pharos_alerting::eval::Verdict::Normal => "Normal",
                    pharos_alerting::eval::Verdict::Firing => "Alerting",
                    pharos_alerting::eval::Verdict::NoData => "NoData",
                };
                let values: Map<String, Value> = instance
                    .values
                    .into_iter()
                    .map(|(ref_id, (_, value))| (ref_id, number(value)))
                    .collect();
                json!({"labels": instance.labels, "state": state, "values": values})
            })
            .collect(),
        EvalOutcome::NoData => vec![json!({"labels": {}, "state": "NoData", "values": {}})],
        EvalOutcome::Error(error) => {
            vec![json!({"labels": {}, "state": "Error", "values": {}, "error": error})]
        }
    }
}

/// A number for JSON: NaN and infinities have no JSON form, so they are null.
fn number(value: Option<f64>) -> Value {
    value
        .filter(|v| v.is_finite())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// An expression's result as data frames, in the shapes Grafana's expressions answer: one
/// frame per series (`Time`, `Value` with the series' labels), one frame per number (a single
/// `Value` field with its labels, one row).
fn frames_from_data(data: &Data) -> Vec<Frame> {
    let Data::Items(items) = data else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| match item {
            Item::Series(series) => Frame::new(vec![
                Field::new(
                    "Time",
                    FieldValues::Time(series.points.iter().map(|(t, _)| *t).collect()),
                ),
                Field::new(
                    "Value",
                    FieldValues::Number(series.points.iter().map(|(_, v)| *v).collect()),
                )
                .with_labels(series.labels.clone()),
            ]),
            Item::Number(n) => Frame::new(vec![Field::new(
                "Value",
                FieldValues::Number(vec![n.value]),
            )
            .with_labels(n.labels.clone())]),
            Item::Scalar(v) => Frame::new(vec![Field::new("Value", FieldValues::Number(vec![*v]))]),
        })
        .collect()
}

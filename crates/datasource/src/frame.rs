//! Data frames, Grafana's column-major result format, and their JSON encoding as `/api/ds/query`
//! returns them: `{"schema": {"refId", "name", "meta", "fields": [...]}, "data": {"values": [...]}}`.
//!
//! Frames are stored without a refId: one cached result may answer several requests that call the
//! same query by different refIds, so the refId is written at encoding time.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub name: Option<String>,
    /// Grafana's `schema.meta` (`type`, `executedQueryString`, `custom`, ...).
    pub meta: Option<Value>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub labels: Option<BTreeMap<String, String>>,
    /// Grafana's field config (`displayNameFromDS`, `interval`, `unit`, ...).
    pub config: Option<Map<String, Value>>,
    pub values: FieldValues,
}

/// One column. Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValues {
    Time(Vec<i64>),
    Number(Vec<Option<f64>>),
    String(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
}

impl FieldValues {
    pub fn len(&self) -> usize {
        match self {
            FieldValues::Time(v) => v.len(),
            FieldValues::Number(v) => v.len(),
            FieldValues::String(v) => v.len(),
            FieldValues::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn type_name(&self) -> &'static str {
        match self {
            FieldValues::Time(_) => "time",
            FieldValues::Number(_) => "number",
            FieldValues::String(_) => "string",
            FieldValues::Bool(_) => "boolean",
        }
    }

    fn frame_type(&self) -> &'static str {
        match self {
            FieldValues::Time(_) => "time.Time",
            FieldValues::Number(_) => "float64",
            FieldValues::String(_) => "string",
            FieldValues::Bool(_) => "bool",
        }
    }
}

impl Field {
    pub fn new(name: impl Into<String>, values: FieldValues) -> Field {
        Field {
            name: name.into(),
            labels: None,
            config: None,
            values,
        }
    }

    pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Field {
        self.labels = Some(labels);
        self
    }

    /// Sets one key of the field config.
    pub fn with_config(mut self, key: &str, value: Value) -> Field {
        self.config
            .get_or_insert_with(Map::new)
            .insert(key.to_string(), value);
        self
    }
}

impl Frame {
    pub fn new(fields: Vec<Field>) -> Frame {
        Frame {
            name: None,
            meta: None,
            fields,
        }
    }

    pub fn rows(&self) -> usize {
        self.fields.first().map_or(0, |f| f.values.len())
    }

    /// This frame in Grafana's JSON, with the given refId.
    pub fn encode<'a>(&'a self, ref_id: &'a str) -> EncodedFrame<'a> {
        EncodedFrame {
            frame: self,
            ref_id,
        }
    }
}

/// A frame paired with the refId it answers; serializes to Grafana's data frame JSON.
pub struct EncodedFrame<'a> {
    frame: &'a Frame,
    ref_id: &'a str,
}

impl Serialize for EncodedFrame<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("schema", &Schema(self))?;
        map.serialize_entry("data", &Data(self.frame))?;
        map.end()
    }
}

struct Schema<'a>(&'a EncodedFrame<'a>);

impl Serialize for Schema<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let frame = self.0.frame;
        let mut map = s.serialize_map(None)?;
        if let Some(name) = &frame.name {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("refId", self.0.ref_id)?;
        if let Some(meta) = &frame.meta {
            map.serialize_entry("meta", meta)?;
        }
        map.serialize_entry("fields", &SchemaFields(&frame.fields))?;
        map.end()
    }
}

struct SchemaFields<'a>(&'a [Field]);

impl Serialize for SchemaFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for field in self.0 {
            seq.serialize_element(&SchemaField(field))?;
        }
        seq.end()
    }
}

struct SchemaField<'a>(&'a Field);

#[derive(Serialize)]
struct TypeInfo {
    frame: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    nullable: bool,
}

impl Serialize for SchemaField<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let field = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &field.name)?;
        map.serialize_entry("type", field.values.type_name())?;
        map.serialize_entry(
            "typeInfo",
            &TypeInfo {
                frame: field.values.frame_type(),
                nullable: !matches!(field.values, FieldValues::Time(_)),
            },
        )?;
        if let Some(labels) = &field.labels {
            map.serialize_entry("labels", labels)?;
        }
        if let Some(config) = &field.config {
            map.serialize_entry("config", config)?;
        }
        map.end()
    }
}

struct Data<'a>(&'a Frame);

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = &self.0.fields;
        let entities: Vec<Option<Entities>> = fields.iter().map(Entities::of).collect();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("values", &Columns(fields))?;
        if entities.iter().any(Option::is_some) {
            map.serialize_entry("entities", &entities)?;
        }
        map.end()
    }
}

struct Columns<'a>(&'a [Field]);

impl Serialize for Columns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for field in self.0 {
            match &field.values {
                FieldValues::Time(v) => seq.serialize_element(v)?,
                FieldValues::Number(v) => seq.serialize_element(&FiniteNumbers(v))?,
                FieldValues::String(v) => seq.serialize_element(v)?,
                FieldValues::Bool(v) => seq.serialize_element(v)?,
            }
        }
        seq.end()
    }
}

/// Numbers with NaN and ±Inf written as `null`; their positions go to `entities`, as Grafana does.
struct FiniteNumbers<'a>(&'a [Option<f64>]);

impl Serialize for FiniteNumbers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            match v {
                Some(x) if x.is_finite() => seq.serialize_element(x)?,
                _ => seq.serialize_element(&None::<f64>)?,
            }
        }
        seq.end()
    }
}

/// Where a number column holds values JSON cannot: `{"NaN": [i..], "Inf": [..], "NegInf": [..]}`.
#[derive(Serialize, Default)]
struct Entities {
    #[serde(rename = "NaN", skip_serializing_if = "Vec::is_empty")]
    nan: Vec<usize>,
    #[serde(rename = "Inf", skip_serializing_if = "Vec::is_empty")]
    inf: Vec<usize>,
    #[serde(rename = "NegInf", skip_serializing_if = "Vec::is_empty")]
    neg_inf: Vec<usize>,
}

impl Entities {
    fn of(field: &Field) -> Option<Entities> {
        let FieldValues::Number(values) = &field.values else {
            return None;
        };
        if values.iter().flatten().all(|x| x.is_finite()) {
            return None;
        }
        let mut e = Entities::default();
        for (i, x) in values.iter().enumerate() {
            match x {
                Some(x) if x.is_nan() => e.nan.push(i),
                Some(x) if *x == f64::INFINITY => e.inf.push(i),
                Some(x) if *x == f64::NEG_INFINITY => e.neg_inf.push(i),
                _ => {}
            }
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_grafana_frame_json_with_entities_for_non_finite_numbers() {
        let frame = Frame {
            name: Some("up".into()),
            meta: Some(json!({"type": "timeseries-multi"})),
            fields: vec![
                Field::new("Time", FieldValues::Time(vec![1000, 2000, 3000]))
                    .with_config("interval", json!(1000)),
                Field::new(
                    "Value",
                    FieldValues::Number(vec![Some(1.5), Some(f64::NAN), Some(f64::INFINITY)]),
                )
                .with_labels([("job".to_string(), "node".to_string())].into()),
            ],
        };
        let v = serde_json::to_value(frame.encode("A")).unwrap();
        assert_eq!(
            v,
            json!({
                "schema": {
                    "name": "up",
                    "refId": "A",
                    "meta": {"type": "timeseries-multi"},
                    "fields": [
                        {"name": "Time", "type": "time", "typeInfo": {"frame": "time.Time"},
                         "config": {"interval": 1000}},
                        {"name": "Value", "type": "number",
                         "typeInfo": {"frame": "float64", "nullable": true},
                         "labels": {"job": "node"}}
                    ]
                },
                "data": {
                    "values": [[1000, 2000, 3000], [1.5, null, null]],
                    "entities": [null, {"NaN": [1], "Inf": [2]}]
                }
            })
        );
    }
}

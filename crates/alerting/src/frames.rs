//! From the data frames a datasource answers to the series and numbers expressions work on,
//! following the shapes Grafana's expression engine accepts:
//!
//! * **time series** (a time field and number fields, one frame per series as Prometheus and
//!   InfluxDB answer): each number field is a series with that field's labels, points sorted by
//!   time;
//! * **table** (string fields and one number field, no time): each row is a number whose labels
//!   are the row's strings (`{"host": "a"}`) plus the number field's own labels;
//! * **numbers** (number fields only, no time): each value is a number with its field's labels.
//!
//! Frames without rows add nothing; no frames, or only empty ones, is no data. Anything else
//! (a time field without numbers, a table with several number columns) is an error that names
//! the frame.

use pharos_datasource::{FieldValues, Frame};

use crate::expr::{Data, Item, Number, Series};
use crate::labels::Labels;

/// Converts one query's frames.
pub fn data_from_frames(frames: &[Frame]) -> Result<Data, String> {
    let mut items = Vec::new();
    for (index, frame) in frames.iter().enumerate() {
        if frame.fields.is_empty() || frame.rows() == 0 {
            continue;
        }
        let name = frame
            .name
            .clone()
            .unwrap_or_else(|| format!("#{}", index + 1));
        let times = frame.fields.iter().find_map(|f| match &f.values {
            FieldValues::Time(t) => Some(t),
            _ => None,
        });
        let numbers: Vec<(&pharos_datasource::Field, &Vec<Option<f64>>)> = frame
            .fields
            .iter()
            .filter_map(|f| match &f.values {
                FieldValues::Number(v) => Some((f, v)),
                _ => None,
            })
            .collect();
        if numbers.is_empty() {
            return Err(format!("frame {name} has no numeric field to alert on"));
        }
        match times {
            Some(times) => {
                for (field, values) in numbers {
                    let mut points: Vec<(i64, Option<f64>)> =
                        times.iter().copied().zip(values.iter().copied()).collect();
                    points.sort_by_key(|(t, _)| *t);
                    items.push(Item::Series(Series {
                        labels: field.labels.clone().unwrap_or_default(),
                        points,
                    }));
                }
            }
            None => {
                let strings: Vec<(&str, &Vec<Option<String>>)> = frame
                    .fields
                    .iter()
                    .filter_map(|f| match &f.values {
                        FieldValues::String(v) => Some((f.name.as_str(), v)),
                        _ => None,
                    })
                    .collect();
                if !strings.is_empty() && numbers.len() > 1 {
                    return Err(format!(
                        "frame {name} is a table with {} number columns; expressions take one",
                        numbers.len()
                    ));
                }
                for (field, values) in numbers {
                    for (row, value) in values.iter().enumerate() {
                        let mut labels: Labels = field.labels.clone().unwrap_or_default();
                        for (column, cells) in &strings {
                            let cell = cells.get(row).cloned().flatten().unwrap_or_default();
                            labels.insert(column.to_string(), cell);
                        }
                        items.push(Item::Number(Number {
                            labels,
                            value: *value,
                        }));
                    }
                }
            }
        }
    }
    Ok(Data::from_items(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use pharos_datasource::Field;

    #[test]
    fn prometheus_style_series_frames() {
        let frame = |host: &str, t: Vec<i64>, v: Vec<Option<f64>>| {
            Frame::new(vec![
                Field::new("Time", FieldValues::Time(t)),
                Field::new("Value", FieldValues::Number(v)).with_labels(labels(&[("host", host)])),
            ])
        };
        let data = data_from_frames(&[
            frame("a", vec![2000, 1000], vec![Some(2.0), Some(1.0)]),
            frame("b", vec![1000], vec![None]),
        ])
        .unwrap();
        assert_eq!(
            data,
            Data::series(vec![
                Series {
                    labels: labels(&[("host", "a")]),
                    points: vec![(1000, Some(1.0)), (2000, Some(2.0))]
                },
                Series {
                    labels: labels(&[("host", "b")]),
                    points: vec![(1000, None)]
                },
            ])
        );
    }

    #[test]
    fn tables_and_numbers() {
        let table = Frame::new(vec![
            Field::new("host", FieldValues::String(vec![Some("a".into()), None])),
            Field::new(
                "dc",
                FieldValues::String(vec![Some("x".into()), Some("y".into())]),
            ),
            Field::new("cpu", FieldValues::Number(vec![Some(0.5), Some(0.9)])),
        ]);
        assert_eq!(
            data_from_frames(&[table]).unwrap(),
            Data::numbers(vec![
                Number {
                    labels: labels(&[("dc", "x"), ("host", "a")]),
                    value: Some(0.5)
                },
                Number {
                    labels: labels(&[("dc", "y"), ("host", "")]),
                    value: Some(0.9)
                },
            ])
        );
        let wide = Frame::new(vec![
            Field::new("a", FieldValues::Number(vec![Some(1.0)]))
                .with_labels(labels(&[("k", "1")])),
            Field::new("b", FieldValues::Number(vec![Some(2.0)]))
                .with_labels(labels(&[("k", "2")])),
        ]);
        assert_eq!(
            data_from_frames(&[wide]).unwrap(),
            Data::numbers(vec![
                Number {
                    labels: labels(&[("k", "1")]),
                    value: Some(1.0)
                },
                Number {
                    labels: labels(&[("k", "2")]),
                    value: Some(2.0)
                },
            ])
        );
    }

    #[test]
    fn empty_answers_are_no_data_and_odd_shapes_are_errors() {
        assert_eq!(data_from_frames(&[]).unwrap(), Data::NoData);
        let empty = Frame::new(vec![
            Field::new("Time", FieldValues::Time(vec![])),
            Field::new("Value", FieldValues::Number(vec![])),
        ]);
        assert_eq!(
            data_from_frames(&[empty, Frame::new(vec![])]).unwrap(),
            Data::NoData
        );
        let no_numbers = Frame::new(vec![
            Field::new("Time", FieldValues::Time(vec![1])),
            Field::new("msg", FieldValues::String(vec![Some("x".into())])),
        ]);
        assert!(data_from_frames(&[no_numbers])
            .unwrap_err()
            .contains("no numeric field"));
        let mut two_columns = Frame::new(vec![
            Field::new("host", FieldValues::String(vec![Some("a".into())])),
            Field::new("x", FieldValues::Number(vec![Some(1.0)])),
            Field::new("y", FieldValues::Number(vec![Some(1.0)])),
        ]);
        two_columns.name = Some("cpu".into());
        assert_eq!(
            data_from_frames(&[two_columns]).unwrap_err(),
            "frame cpu is a table with 2 number columns; expressions take one"
        );
    }
}

//! The values expressions work on, as Grafana's expression engine models them: a refId's result is
//! a set of time series, a set of numbers, or "no data"; each item is identified by its labels.
//! `None` is a null point (Grafana keeps nulls and NaN apart).

use crate::labels::Labels;

/// One labelled time series: points are (epoch milliseconds, value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(i64, Option<f64>)>,
}

/// One labelled number (a reduced series, or a row of a table-shaped query answer).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Number {
    pub labels: Labels,
    pub value: Option<f64>,
}

/// One item of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Series(Series),
    Number(Number),
    /// A constant from a math expression (`2`, `nan()`): no labels, matches every item.
    Scalar(Option<f64>),
}

impl Item {
    pub fn labels(&self) -> Option<&Labels> {
        match self {
            Item::Series(s) => Some(&s.labels),
            Item::Number(n) => Some(&n.labels),
            Item::Scalar(_) => None,
        }
    }

    /// The labels, or an empty set for a scalar.
    pub fn labels_or_empty(&self) -> Labels {
        self.labels().cloned().unwrap_or_default()
    }
}

/// The result of one refId.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Items(Vec<Item>),
    /// The query ran and returned nothing (or an expression had nothing to work on).
    NoData,
}

impl Data {
    /// Items, with an empty set normalised to [`Data::NoData`].
    pub fn from_items(items: Vec<Item>) -> Data {
        if items.is_empty() {
            Data::NoData
        } else {
            Data::Items(items)
        }
    }

    pub fn series(list: Vec<Series>) -> Data {
        Data::from_items(list.into_iter().map(Item::Series).collect())
    }

    pub fn numbers(list: Vec<Number>) -> Data {
        Data::from_items(list.into_iter().map(Item::Number).collect())
    }

    pub fn scalar(value: Option<f64>) -> Data {
        Data::Items(vec![Item::Scalar(value)])
    }

    pub fn items(&self) -> &[Item] {
        match self {
            Data::Items(items) => items,
            Data::NoData => &[],
        }
    }
}

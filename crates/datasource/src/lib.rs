//! The query engine. It knows Grafana's `/api/ds/query` model and data frames, the interval and
//! template-variable math, one module per source kind, and the engine that coalesces identical
//! in-flight queries and caches results. It knows nothing of HTTP routes or the database: the
//! server resolves datasources (with decrypted secrets) and hands them in.

pub mod engine;
pub mod frame;
pub mod influxdb;
pub mod interval;
pub mod model;
pub mod prometheus;
pub mod source;
pub mod template;
pub mod testdata;
pub mod time_range;
pub mod variables;

pub use engine::{CacheOutcome, Engine, EngineSettings, QueryOutcome};
pub use frame::{Field, FieldValues, Frame};
pub use model::{DataSource, QueryError, QueryItem, TimeRange};
pub use source::{Prepared, Source};

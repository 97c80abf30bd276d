//! Prometheus (being written).
use crate::frame::Frame;
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::source::{BoxFuture, Prepared, Source, Upstream};

pub struct Prometheus;

impl Source for Prometheus {
    fn prepare(&self, _: &DataSource, _: &QueryItem, _: TimeRange) -> Result<Prepared, QueryError> {
        Err(QueryError::BadQuery("not yet".into()))
    }
    fn execute<'a>(
        &'a self,
        _: &'a Upstream,
        _: &'a DataSource,
        _: &'a Prepared,
    ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>> {
        Box::pin(async { Err(QueryError::BadQuery("not yet".into())) })
    }
    fn health<'a>(
        &'a self,
        _: &'a Upstream,
        _: &'a DataSource,
    ) -> BoxFuture<'a, Result<String, QueryError>> {
        Box::pin(async { Err(QueryError::BadQuery("not yet".into())) })
    }
}

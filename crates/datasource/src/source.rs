//! The narrow boundary between the engine and a kind of source. A source turns one query into a
//! [`Prepared`] plan (pure: it decides the exact upstream request, whose identity is the cache and
//! coalescing key) and then executes plans against the datasource's [`Upstream`].

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use crate::frame::Frame;
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::variables::VariableOption;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One query, decided: what will be asked of the source.
pub struct Prepared {
    /// Identity of the upstream request: two plans with equal keys (on one datasource version)
    /// produce equal frames, so they share one request and one cache entry.
    pub key: String,
    /// The range the source is asked for (after alignment to the step).
    pub range: TimeRange,
    /// The step between points, 0 for sources without one.
    pub step_ms: i64,
    /// False for answers that must never be reused (e.g. unseeded random data).
    pub cacheable: bool,
    /// The source's own plan, read back by its `execute`.
    pub plan: Box<dyn Any + Send + Sync>,
}

impl Prepared {
    pub fn plan<T: 'static>(&self) -> Result<&T, QueryError> {
        self.plan
            .downcast_ref::<T>()
            .ok_or_else(|| QueryError::BadQuery("internal: plan of another source kind".into()))
    }
}

pub trait Source: Send + Sync + 'static {
    /// Decides the upstream request for one query over `range` (the request's range, unaligned).
    fn prepare(
        &self,
        ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
    ) -> Result<Prepared, QueryError>;

    /// Runs a plan made by this source's `prepare`.
    fn execute<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
        prepared: &'a Prepared,
    ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>>;

    /// The "Save & test" check: a short success message, or why the source is unusable.
    fn health<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
    ) -> BoxFuture<'a, Result<String, QueryError>>;

    /// The raw options of a query variable (`label_values(job)`, `SHOW TAG VALUES ...`), before
    /// the variable's regex and sort; `query` has the dashboard's variables already interpolated.
    fn variable_options<'a>(
        &'a self,
        _upstream: &'a Upstream,
        ds: &'a DataSource,
        _query: &'a str,
        _range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<VariableOption>, QueryError>> {
        let kind = ds.kind.clone();
        Box::pin(async move {
            Err(QueryError::BadQuery(format!(
                "datasources of type {kind} have no query variables"
            )))
        })
    }
}

/// How to reach a datasource over HTTP: a client with its TLS settings, the base URL, and the
/// headers every request carries (basic auth, custom headers such as `Authorization: Bearer`).
pub struct Upstream {
    pub client: reqwest::Client,
    pub base: Option<url::Url>,
    pub headers: HeaderMap,
}

impl Upstream {
    /// Builds the client for a datasource from Grafana's settings: `basicAuth` + `basicAuthUser` +
    /// `secureJsonData.basicAuthPassword`; `jsonData.httpHeaderName<N>` + `secureJsonData.
    /// httpHeaderValue<N>`; `jsonData.tlsSkipVerify`, `tlsAuthWithCACert` (`tlsCACert`), `tlsAuth`
    /// (`tlsClientCert` + `tlsClientKey`).
    pub fn for_datasource(ds: &DataSource) -> Result<Upstream, QueryError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            QueryError::BadQuery(format!("datasource {}: {what}: {e}", ds.name))
        };
        let base = if ds.url.trim().is_empty() {
            None
        } else {
            let mut url = url::Url::parse(ds.url.trim()).map_err(|e| bad("invalid url", &e))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("invalid url", &"the scheme must be http or https"));
            }
            // Joining relative paths onto the base needs a trailing slash.
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            Some(url)
        };

        let mut headers = HeaderMap::new();
        if ds.basic_auth {
            let password = ds.secret("basicAuthPassword").unwrap_or_default();
            let token = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{}", ds.basic_auth_user, password),
            );
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Basic {token}"))
                    .map_err(|e| bad("basic auth", &e))?,
            );
        }
        for n in 1.. {
            let Some(name) = ds.json_str(&format!("httpHeaderName{n}")) else {
                break;
            };
            let value = ds
                .secret(&format!("httpHeaderValue{n}"))
                .unwrap_or_default();
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|e| bad("custom header name", &e))?;
            let mut value = HeaderValue::from_str(value).map_err(|e| bad("custom header", &e))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }

        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("pharos/", env!("CARGO_PKG_VERSION")));
        if ds.json_bool("tlsSkipVerify") {
            builder = builder.danger_accept_invalid_certs(true);
        }
        if ds.json_bool("tlsAuthWithCACert") {
            let pem = ds.secret("tlsCACert").unwrap_or_default();
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| bad("tlsCACert", &e))?;
            if certs.is_empty() {
                return Err(bad("tlsCACert", &"no PEM certificate in it"));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if ds.json_bool("tlsAuth") {
            let (Some(cert), Some(key)) = (ds.secret("tlsClientCert"), ds.secret("tlsClientKey"))
            else {
                return Err(bad(
                    "tlsAuth",
                    &"tlsClientCert and tlsClientKey must both be set",
                ));
            };
            let identity = reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes())
                .map_err(|e| bad("TLS client certificate", &e))?;
            builder = builder.identity(identity);
        }
        let client = builder.build().map_err(|e| bad("HTTP client", &e))?;
        Ok(Upstream {
            client,
            base,
            headers,
        })
    }

    /// The absolute URL of `path` (relative, no leading slash) under the datasource's URL.
    pub fn url(&self, path: &str) -> Result<url::Url, QueryError> {
        let base = self
            .base
            .as_ref()
            .ok_or_else(|| QueryError::BadQuery("the datasource has no URL".into()))?;
        base.join(path.trim_start_matches('/'))
            .map_err(|e| QueryError::BadQuery(format!("invalid path {path}: {e}")))
    }

    /// Sends a request with the datasource's headers; returns the status and body. Connection
    /// failures become [`QueryError::Upstream`] naming the host, timeouts [`QueryError::Timeout`].
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), QueryError> {
        let response = request
            .headers(self.headers.clone())
            .send()
            .await
            .map_err(upstream_error)?;
        let status = response.status();
        let body = response.bytes().await.map_err(upstream_error)?;
        Ok((status, body))
    }
}

/// A transport error as the message a user can act on: the host and the innermost cause
/// ("Connection refused", "connection closed before message completed", ...).
pub fn upstream_error(e: reqwest::Error) -> QueryError {
    let host = e
        .url()
        .map(|u| format!("{}://{}", u.scheme(), u.authority()))
        .unwrap_or_default();
    if e.is_timeout() {
        return QueryError::Timeout(format!("the datasource at {host} did not answer in time"));
    }
    let mut cause: &dyn std::error::Error = &e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    QueryError::Upstream(format!("cannot reach the datasource at {host}: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(json_data: serde_json::Value, secure: &[(&str, &str)]) -> DataSource {
        DataSource {
            name: "p".into(),
            url: "http://127.0.0.1:9090/prefix".into(),
            json_data,
            secure: secure
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn auth_and_custom_headers_come_from_the_settings() {
        let mut with_basic = ds(
            json!({"httpHeaderName1": "X-Scope-OrgID", "httpHeaderName2": "Authorization"}),
            &[
                ("basicAuthPassword", "pw"),
                ("httpHeaderValue1", "tenant-7"),
                ("httpHeaderValue2", "Bearer t0ken"),
            ],
        );
        with_basic.basic_auth = true;
        with_basic.basic_auth_user = "u".into();
        let up = Upstream::for_datasource(&with_basic).unwrap();
        assert_eq!(up.headers["x-scope-orgid"], "tenant-7");
        // A custom Authorization header (how Grafana users set a bearer token) wins over basic auth.
        assert_eq!(up.headers[AUTHORIZATION], "Bearer t0ken");
        assert_eq!(
            up.url("api/v1/query").unwrap().as_str(),
            "http://127.0.0.1:9090/prefix/api/v1/query"
        );

        let mut basic_only = ds(json!({}), &[("basicAuthPassword", "pw")]);
        basic_only.basic_auth = true;
        basic_only.basic_auth_user = "u".into();
        let up = Upstream::for_datasource(&basic_only).unwrap();
        // base64("u:pw")
        assert_eq!(up.headers[AUTHORIZATION], "Basic dTpwdw==");
    }

    #[test]
    fn tls_settings_are_checked_when_the_client_is_built() {
        assert!(Upstream::for_datasource(&ds(json!({"tlsSkipVerify": true}), &[])).is_ok());
        let err = Upstream::for_datasource(&ds(json!({"tlsAuth": true}), &[]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("tlsClientCert"), "{err}");
        let err = Upstream::for_datasource(&ds(
            json!({"tlsAuthWithCACert": true}),
            &[("tlsCACert", "not a certificate")],
        ));
        assert!(err.is_err());
        let mut bad_scheme = ds(json!({}), &[]);
        bad_scheme.url = "file:///etc/passwd".into();
        assert!(Upstream::for_datasource(&bad_scheme).is_err());
    }
}

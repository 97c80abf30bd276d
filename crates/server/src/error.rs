//! The API's one error envelope: `{"message": ..., "status": ...}` with an HTTP status. Only this module
//! maps errors to HTTP; internal detail goes to the log, never to the client.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use pharos_store::StoreError;
use serde::Serialize;

/// What a request that needed the database hears while it is down.
pub const DATABASE_UNAVAILABLE: &str = "The database is unavailable; try again shortly";

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Grafana's machine-readable word for some errors (`version-mismatch`, `name-exists`, ...).
    pub status_word: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            status_word: None,
        }
    }

    pub fn with_status_word(mut self, word: &'static str) -> Self {
        self.status_word = Some(word);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message).with_status_word("not-found")
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// Maps a store error, naming the entity (`what`) in not-found and already-exists messages.
    pub fn from_store(err: StoreError, what: &str) -> Self {
        match err {
            StoreError::NotFound => Self::not_found(format!("{what} not found")),
            StoreError::AlreadyExists => Self::conflict(format!("{what} already exists")),
            StoreError::Invalid(message) => Self::bad_request(message),
            StoreError::VersionMismatch => Self::new(
                StatusCode::PRECONDITION_FAILED,
                format!(
                    "The {} has been changed by someone else",
                    what.to_lowercase()
                ),
            )
            .with_status_word("version-mismatch"),
            StoreError::NameExists => Self::new(
                StatusCode::PRECONDITION_FAILED,
                format!(
                    "A {} with the same name in the folder already exists",
                    what.to_lowercase()
                ),
            )
            .with_status_word("name-exists"),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::unavailable(DATABASE_UNAVAILABLE)
            }
            // The store already retried it; the database is too contended right now.
            StoreError::Conflict(e) => {
                tracing::warn!(error = %e, "transaction kept aborting under contention");
                Self::unavailable("The database is busy; try again shortly")
            }
            other => {
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::from_store(err, "Resource")
    }
}

/// `result.or_api("Dashboard")?` in handlers.
pub trait StoreContext<T> {
    fn or_api(self, what: &str) -> Result<T, ApiError>;
}

impl<T> StoreContext<T> for Result<T, StoreError> {
    fn or_api(self, what: &str) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::from_store(e, what))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            message: &self.message,
            status: self.status_word,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Longest message kept from a plain-text error (it may echo a huge path segment back).
const MAX_REWRITTEN_MESSAGE: usize = 200;

/// Rewrites a plain-text error response into the API's JSON envelope. axum's own extractor
/// rejections (a path segment that is not a number, invalid UTF-8 in a path, a query string that
/// does not parse) answer in plain text; the authentication middleware, which every routed request
/// passes through, runs responses through this so every error a client sees is JSON with a
/// `message`. Other responses pass untouched.
pub async fn ensure_json_error(response: Response) -> Response {
    let status = response.status();
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain_text {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else if text.chars().count() > MAX_REWRITTEN_MESSAGE {
        let mut short: String = text.chars().take(MAX_REWRITTEN_MESSAGE).collect();
        short.push('…');
        short
    } else {
        text
    };
    let mut rewritten = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contended_database_is_503_not_500() {
        // (An unreachable one is covered end to end by tests/db_outage.rs.)
        let busy = ApiError::from_store(StoreError::Conflict("deadlock detected".into()), "Folder");
        assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !busy.message.contains("deadlock"),
            "no driver detail for clients"
        );
    }
}

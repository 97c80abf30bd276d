//! Request and response bodies. [`JsonBody`] wraps axum's JSON extractor so that a malformed body,
//! a wrong content type or an oversized body answers with the API's JSON error envelope.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    /// Reads the body as JSON whatever its Content-Type says, as Grafana does (`curl -d` sends a
    /// form type), within the body limit.
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
            } else {
                ApiError::bad_request(format!(
                    "Cannot read the request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("A JSON request body is required"));
        }
        if contains_nul_escape(&bytes) {
            // PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike and
            // turns what would be a database error into a clear 400.
            return Err(ApiError::bad_request(
                "Text in the request body must not contain NUL characters (\\u0000)",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    ApiError::bad_request(format!("Invalid request body: {e}"))
                }
                _ => ApiError::bad_request(format!("Malformed JSON: {e}")),
            })
    }
}

/// True when the JSON text has a `\u0000` escape (a NUL in a string), not counting an escaped
/// backslash followed by `u0000`, which is plain text.
fn contains_nul_escape(bytes: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"\\u0000";
    let mut from = 0;
    while let Some(pos) = bytes[from..]
        .windows(ESCAPE.len())
        .position(|w| w == ESCAPE)
    {
        let at = from + pos;
        let backslashes_before = bytes[..at]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes_before % 2 == 0 {
            return true;
        }
        from = at + 1;
    }
    false
}

/// A JSON body that was serialized by hand (for example, stored dashboard JSON spliced in without
/// parsing it again).
pub struct RawJson(pub Bytes);

impl IntoResponse for RawJson {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.8"));
        assert!(!with("gzip;q=0"));
        assert!(!with("deflate, br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not() {
        assert!(contains_nul_escape(br#"{"title": "a\u0000b"}"#));
        assert!(contains_nul_escape(br#"["\\\u0000"]"#));
        assert!(!contains_nul_escape(br#"{"regex": "\\u0000"}"#));
        assert!(!contains_nul_escape(br#"{"title": "u0000"}"#));
        assert!(!contains_nul_escape(b""));
    }
}

/// A JSON answer kept in both encodings, for answers that are cached: compressing once per cache
/// fill instead of per request makes gzip nearly free (a 1,000-hit search is ~200 KB of JSON and
/// ~20 KB gzipped).
#[derive(Clone)]
pub struct EncodedBody {
    pub json: Bytes,
    pub gzip: Bytes,
}

/// `data` gzipped at `level` (`Compression::fast()` for answers made per request,
/// `Compression::best()` for content compressed once). Writing to memory cannot fail; `None` is
/// there for the type's sake.
pub fn gzip(data: &[u8], level: flate2::Compression) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 6), level);
    encoder.write_all(data).and_then(|_| encoder.finish()).ok()
}

impl EncodedBody {
    pub fn new(json: Bytes) -> EncodedBody {
        // An empty gzip body is never sent (see `respond`).
        let gzip = gzip(&json, flate2::Compression::fast())
            .map(Bytes::from)
            .unwrap_or_default();
        EncodedBody { json, gzip }
    }

    /// Bytes held, for cache weighing.
    pub fn weight(&self) -> u32 {
        (self.json.len() + self.gzip.len())
            .try_into()
            .unwrap_or(u32::MAX)
    }

    /// The answer in the encoding the request accepts.
    pub fn respond(&self, request_headers: &HeaderMap) -> Response {
        if accepts_gzip(request_headers) && !self.gzip.is_empty() {
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_ENCODING, "gzip"),
                    (header::VARY, "Accept-Encoding"),
                ],
                self.gzip.clone(),
            )
                .into_response()
        } else {
            (
                [(header::VARY, "Accept-Encoding")],
                RawJson(self.json.clone()),
            )
                .into_response()
        }
    }
}

/// True when the client lists gzip in `Accept-Encoding` (without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|coding| coding.eq_ignore_ascii_case("gzip"))
                && !parts.any(|p| {
                    matches!(
                        p.replace(' ', "").as_str(),
                        "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
                    )
                })
        })
}

//! The web UI: the files Vite builds into `web/dist`, served by the binary itself.
//!
//! * Release builds embed `web/dist` (rust-embed); debug builds read it from disk at run time, so
//!   `npm run build` shows up without recompiling. `server.web_dir` serves another directory instead.
//! * `GET /assets/*` — Vite's hashed file names — answers with a year-long immutable cache; other
//!   files at the root of dist (favicon, robots.txt) with a short one; every other page route
//!   (`/`, `/login`, `/d/:uid/:slug`, ...) with `index.html`, uncached, for the single-page app to route.
//! * Text files are gzipped once per content (cached by their SHA-256) for clients that accept it;
//!   every file carries an `ETag`, so a revalidation of `index.html` costs a 304.
//! * Without a built UI, `/` answers a plain page that says how to build it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::json::accepts_gzip;

/// `web/dist`, relative to this crate. `allow_missing`: the server builds before the UI is built.
#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

/// Hashed assets never change under one name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed files at the root of dist (favicon.ico, robots.txt): may change with a release.
const SHORT: &str = "public, max-age=3600";
/// `index.html` names the current assets: always revalidated (cheaply, by ETag).
const NO_CACHE: &str = "no-cache";
/// Bytes of gzipped text kept in memory (one entry per distinct file content).
const GZIP_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Where the files come from.
#[derive(Debug, Clone)]
enum Source {
    /// Embedded at compile time (release) or read from the compile-time `web/dist` (debug).
    Embedded,
    /// `server.web_dir`.
    Dir(PathBuf),
}

/// One file ready to send.
struct File {
    body: Bytes,
    hash: [u8; 32],
    content_type: &'static str,
}

/// The UI's files and the gzip cache; shared by every request (an `Extension`).
pub struct WebUi {
    source: Source,
    gzipped: moka::sync::Cache<[u8; 32], Option<Bytes>>,
}

impl WebUi {
    /// Serves `dir` when given (`server.web_dir`), else the embedded `web/dist`.
    pub fn new(dir: Option<PathBuf>) -> Arc<WebUi> {
        let source = match dir {
            Some(dir) => Source::Dir(dir),
            None => Source::Embedded,
        };
        let ui = WebUi {
            source,
            gzipped: moka::sync::Cache::builder()
                .max_capacity(GZIP_CACHE_BYTES)
                .weigher(|_, v: &Option<Bytes>| {
                    v.as_ref()
                        .map_or(1, |b| u32::try_from(b.len()).unwrap_or(u32::MAX))
                })
                .build(),
        };
        let origin = ui.describe();
        if ui.read("index.html").is_some() {
            tracing::info!(from = %origin, "serving the web UI");
        } else {
            tracing::warn!(
                from = %origin,
                "the web UI is not built (no index.html): only the API is served; run scripts/build-web"
            );
        }
        Arc::new(ui)
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::Dir(dir) => dir.display().to_string(),
            Source::Embedded if cfg!(debug_assertions) => format!(
                "{} (read from disk: debug build)",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../web/dist")
                    .display()
            ),
            Source::Embedded => "embedded in the binary".to_string(),
        }
    }

    /// Reads `path` (relative to dist, `/`-separated, never escaping it). Blocking on disk sources.
    fn read(&self, path: &str) -> Option<File> {
        if !is_safe(path) {
            return None;
        }
        let (body, hash) = match &self.source {
            Source::Embedded => {
                let file = Dist::get(path)?;
                let hash = file.metadata.sha256_hash();
                let body = match file.data {
                    Cow::Borrowed(b) => Bytes::from_static(b),
                    Cow::Owned(v) => Bytes::from(v),
                };
                (body, hash)
            }
            Source::Dir(dir) => {
                let full = dir.join(path);
                if !std::fs::metadata(&full).ok()?.is_file() {
                    return None;
                }
                let data = std::fs::read(&full).ok()?;
                let hash: [u8; 32] = Sha256::digest(&data).into();
                (Bytes::from(data), hash)
            }
        };
        Some(File {
            body,
            hash,
            content_type: content_type(path),
        })
    }

    /// [`WebUi::read`] off the async runtime when it touches the disk.
    async fn load(self: &Arc<Self>, path: &str) -> Option<File> {
        if matches!(self.source, Source::Embedded) && !cfg!(debug_assertions) {
            return self.read(path);
        }
        let ui = self.clone();
        let path = path.to_string();
        tokio::task::spawn_blocking(move || ui.read(&path))
            .await
            .ok()
            .flatten()
    }

    /// The file as an HTTP answer: ETag/304, gzip when accepted and worth it, the given caching.
    async fn respond(
        self: &Arc<Self>,
        file: File,
        cache_control: &'static str,
        request: &HeaderMap,
    ) -> Response {
        let etag = format!("\"{}\"", hex::encode(&file.hash[..16]));
        let compressible = is_compressible(file.content_type) && file.body.len() >= 1024;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(v) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, v);
        }
        if compressible {
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        if etag_matches(request, &etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        let mut body = file.body.clone();
        if compressible && accepts_gzip(request) {
            if let Some(gzip) = self.gzip(file).await {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                body = gzip;
            }
        }
        (StatusCode::OK, headers, Body::from(body)).into_response()
    }

    /// The gzipped form of `file`, compressed once per distinct content; `None` when it does not
    /// get smaller.
    async fn gzip(self: &Arc<Self>, file: File) -> Option<Bytes> {
        if let Some(hit) = self.gzipped.get(&file.hash) {
            return hit;
        }
        let ui = self.clone();
        tokio::task::spawn_blocking(move || {
            ui.gzipped.get_with(file.hash, || {
                crate::json::gzip(&file.body, flate2::Compression::best())
                    .filter(|g| g.len() < file.body.len())
                    .map(Bytes::from)
            })
        })
        .await
        .ok()
        .flatten()
    }

    /// `index.html` for a page route, or the "not built" page.
    async fn page(
        self: &Arc<Self>,
        status_if_missing: StatusCode,
        request: &HeaderMap,
    ) -> Response {
        match self.load("index.html").await {
            Some(file) => self.respond(file, NO_CACHE, request).await,
            None => not_built(status_if_missing),
        }
    }
}

/// `GET /` and `GET /login`: the single-page app (which routes on the client), or, without a built
/// UI, the plain page saying how to build it.
pub async fn page(Extension(ui): Extension<Arc<WebUi>>, headers: HeaderMap) -> Response {
    ui.page(StatusCode::OK, &headers).await
}

/// `GET /assets/*`: Vite's content-hashed files, cached for a year.
pub async fn asset(Extension(ui): Extension<Arc<WebUi>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    match ui.load(path).await {
        Some(file) => ui.respond(file, IMMUTABLE, &headers).await,
        None => ApiError::not_found("Asset not found").into_response(),
    }
}

/// Every other request no route matched. API paths, non-GET methods and the server's own
/// endpoints get the JSON 404; a file at the root of dist is served with a short cache; anything
/// else is a page of the single-page app.
pub async fn fallback(
    Extension(ui): Extension<Arc<WebUi>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if !is_page_route(&method, path) {
        return ApiError::not_found("Not found").into_response();
    }
    if path.starts_with("/assets/") {
        return ApiError::not_found("Asset not found").into_response();
    }
    let file_path = path.trim_start_matches('/');
    if file_path != "index.html" && !file_path.is_empty() {
        if let Some(file) = ui.load(file_path).await {
            return ui.respond(file, SHORT, &headers).await;
        }
    }
    ui.page(StatusCode::NOT_FOUND, &headers).await
}

/// A GET (or HEAD) that the single-page app may answer: not the API, not the server's own
/// endpoints.
fn is_page_route(method: &Method, path: &str) -> bool {
    const SERVER_PATHS: [&str; 6] = ["/api", "/login", "/logout", "/metrics", "/livez", "/readyz"];
    let server_path = SERVER_PATHS
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    (method == Method::GET || method == Method::HEAD) && !server_path && path != "/assets"
}

/// A relative path made of plain names: no `..`, `.`, empty segments, backslashes or NULs.
fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0', ':'])
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn content_type(path: &str) -> &'static str {
    let guessed = mime_guess::from_path(path).first_raw();
    match guessed {
        Some("text/html") => "text/html; charset=utf-8",
        Some("text/css") => "text/css; charset=utf-8",
        Some("text/javascript" | "application/javascript") => "text/javascript; charset=utf-8",
        Some("application/json") => "application/json",
        Some("text/plain") => "text/plain; charset=utf-8",
        Some(other) => other,
        None if path.ends_with(".mjs") => "text/javascript; charset=utf-8",
        None if path.ends_with(".map") => "application/json",
        None => "application/octet-stream",
    }
}

fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("image/svg+xml")
}

/// `If-None-Match` names this ETag (or `*`); weak comparison, as for GET.
fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn not_built(status: StatusCode) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, NO_CACHE)],
        axum::response::Html(NOT_BUILT),
    )
        .into_response()
}

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Pharos</title></head>\
<body><h1>Pharos</h1><p>The Grafana-compatible HTTP API is served here (see <code>/api/health</code>).</p>\
<p>The web UI is not built. From the repository, run <code>scripts/run</code> (builds the UI with npm, \
then the server, and starts it), or <code>scripts/build-web</code> and then rebuild the server: release \
builds embed <code>web/dist</code> when they are compiled.</p></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_or_are_odd_are_refused() {
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "assets/../../x",
            "assets//x.js",
            "./index.html",
            "a\\b",
            "c:x",
            "a\0b",
            "assets/",
        ] {
            assert!(!is_safe(bad), "{bad:?}");
        }
        for good in [
            "index.html",
            "assets/index-Ab12.js",
            "favicon.ico",
            "img/logo.svg",
        ] {
            assert!(is_safe(good), "{good:?}");
        }
    }

    #[test]
    fn page_routes_leave_the_server_paths_alone() {
        let get = Method::GET;
        for page in [
            "/",
            "/dashboards",
            "/d/abc/slug",
            "/loginx",
            "/apis",
            "/favicon.ico",
        ] {
            assert!(is_page_route(&get, page), "{page}");
        }
        assert!(is_page_route(&Method::HEAD, "/d/abc"));
        for server in [
            "/api",
            "/api/nope",
            "/login",
            "/logout",
            "/metrics",
            "/livez",
            "/readyz",
            "/livez/x",
            "/assets",
        ] {
            assert!(!is_page_route(&get, server), "{server}");
        }
        assert!(!is_page_route(&Method::POST, "/dashboards"));
    }

    #[test]
    fn content_types_name_the_charset_of_text() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/index-x.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/index-x.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("assets/font.woff2"), "font/woff2");
        assert_eq!(
            content_type("assets/x.unknownext"),
            "application/octet-stream"
        );
        assert!(is_compressible(content_type("assets/a.js")));
        assert!(!is_compressible(content_type("assets/a.png")));
    }

    #[test]
    fn etags_match_lists_weak_forms_and_star() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            h
        };
        assert!(etag_matches(&with("\"abc\""), "\"abc\""));
        assert!(etag_matches(&with("\"x\", W/\"abc\""), "\"abc\""));
        assert!(etag_matches(&with("*"), "\"abc\""));
        assert!(!etag_matches(&with("\"abd\""), "\"abc\""));
        assert!(!etag_matches(&HeaderMap::new(), "\"abc\""));
    }
}

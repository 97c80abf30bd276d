//! `GET /api/search`: Grafana's search over folders and dashboards.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use pharos_store::{SearchHit, SearchHitKind, SearchQuery};
use serde::Serialize;

use super::app_url;
use crate::auth::Viewer;
use crate::cache::SearchKey;
use crate::error::{ApiError, ApiResult};
use crate::json::EncodedBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hit {
    id: i64,
    uid: String,
    title: String,
    uri: String,
    url: String,
    slug: String,
    #[serde(rename = "type")]
    kind: &'static str,
    tags: Vec<String>,
    is_starred: bool,
    sort_meta: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_url: Option<String>,
}

fn parse_query(raw: Option<&str>, org_id: i64, user_id: Option<i64>) -> ApiResult<SearchQuery> {
    let mut q = SearchQuery {
        org_id,
        user_id,
        limit: 1000,
        page: 1,
        ..Default::default()
    };
    let number = |key: &str, value: &str| -> ApiResult<i64> {
        value
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request(format!("{key} must be a number")))
    };
    // Repeated keys (`tag=a&tag=b`) and comma lists (`dashboardUIDs=a,b`) are both accepted.
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.as_ref();
        match key.as_ref() {
            "query" => q.query = Some(value.to_string()),
            "tag" => q.tags.push(value.to_string()),
            "type" => {
                q.kind = match value {
                    "dash-db" => Some(SearchHitKind::Dashboard),
                    "dash-folder" => Some(SearchHitKind::Folder),
                    "" => None,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "unknown search type {other:?}"
                        )))
                    }
                }
            }
            "dashboardUIDs" | "dashboardUID" => q.dashboard_uids.extend(list(value)),
            "dashboardIds" => {
                for v in list(value) {
                    q.dashboard_ids.push(number(&key, &v)?);
                }
            }
            "folderUIDs" => q
                .folder_uids
                .extend(value.split(',').map(|s| s.trim().to_string())),
            "folderIds" => {
                for v in list(value) {
                    q.folder_ids.push(number(&key, &v)?);
                }
            }
            "starred" => q.starred = value == "true" || value == "1",
            // As Grafana: a limit or page that is not a positive number means the default, and a
            // limit above 5000 is refused with 422.
            "limit" => {
                q.limit = match value.trim().parse::<i64>() {
                    Ok(limit) if limit > 5000 => {
                        return Err(ApiError::new(
                            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
                        ))
                    }
                    Ok(limit) if limit > 0 => limit,
                    _ => 1000,
                }
            }
            "page" => q.page = value.trim().parse::<i64>().unwrap_or(1).max(1),
            "sort" => q.descending = value == "alpha-desc",
            _ => {}
        }
    }
    Ok(q)
}

fn list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn hit_json(state: &AppState, h: SearchHit) -> Hit {
    let (kind, url) = match h.kind {
        SearchHitKind::Folder => (
            "dash-folder",
            app_url(state, &format!("/dashboards/f/{}/{}", h.uid, h.slug)),
        ),
        SearchHitKind::Dashboard => (
            "dash-db",
            app_url(state, &format!("/d/{}/{}", h.uid, h.slug)),
        ),
    };
    let folder_url = match (&h.folder_uid, &h.folder_title) {
        (Some(uid), Some(title)) => Some(app_url(
            state,
            &format!("/dashboards/f/{uid}/{}", pharos_store::slugify(title)),
        )),
        _ => None,
    };
    Hit {
        id: h.id,
        uri: format!("db/{}", h.slug),
        url,
        slug: h.slug,
        uid: h.uid,
        title: h.title,
        kind,
        tags: h.tags,
        is_starred: h.is_starred,
        sort_meta: 0,
        folder_id: h.folder_id,
        folder_uid: h.folder_uid,
        folder_title: h.folder_title,
        folder_url,
    }
}

/// `GET /api/search?query=&tag=&type=&dashboardUIDs=&folderUIDs=&starred=&limit=&page=`
///
/// Answers are cached per org, viewer and query string (see `crate::cache`), already serialized.
async fn search(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let key = SearchKey {
        org_id: who.org_id,
        user_id: who.user_id(),
        query: raw.unwrap_or_default(),
    };
    let query = parse_query(Some(&key.query), who.org_id, who.user_id())?;
    let body = crate::cache::search(&state, key, async {
        let hits = state.store.search(&query).await?;
        let hits: Vec<Hit> = hits.into_iter().map(|h| hit_json(&state, h)).collect();
        let json = serde_json::to_vec(&hits).map_err(|_| ApiError::internal())?;
        Ok(EncodedBody::new(Bytes::from(json)))
    })
    .await?;
    Ok(body.respond(&headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_comma_parameters() {
        let q = parse_query(
            Some("query=cpu&tag=a&tag=b&type=dash-db&dashboardUIDs=x,y&folderUIDs=general&starred=true&limit=7&page=2"),
            1,
            Some(3),
        )
        .unwrap();
        assert_eq!(q.query.as_deref(), Some("cpu"));
        assert_eq!(q.tags, vec!["a", "b"]);
        assert_eq!(q.kind, Some(SearchHitKind::Dashboard));
        assert_eq!(q.dashboard_uids, vec!["x", "y"]);
        assert_eq!(q.folder_uids, vec!["general"]);
        assert!(q.starred);
        assert_eq!((q.limit, q.page), (7, 2));
        assert_eq!(
            parse_query(Some("limit=abc&page=x"), 1, None)
                .unwrap()
                .limit,
            1000
        );
        assert_eq!(
            parse_query(Some("limit=0&page=x"), 1, None).unwrap().page,
            1
        );
        assert!(parse_query(Some("limit=5001"), 1, None).is_err());
        assert!(parse_query(Some("dashboardIds=abc"), 1, None).is_err());
        assert!(parse_query(Some("type=weird"), 1, None).is_err());
    }
}

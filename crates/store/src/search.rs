//! `/api/search`: folders and dashboards matching a query, folders first, then by title.

use crate::sql::SqlBuilder;
use crate::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchHitKind {
    Folder,
    Dashboard,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub org_id: i64,
    /// Whose stars to report and filter on; `None` for identities that cannot star.
    pub user_id: Option<i64>,
    /// Case-insensitive substring of the title.
    pub query: Option<String>,
    /// Dashboards must carry every one of these tags.
    pub tags: Vec<String>,
    pub kind: Option<SearchHitKind>,
    pub dashboard_uids: Vec<String>,
    pub dashboard_ids: Vec<i64>,
    /// Dashboards in these folders; `general` (or an empty string) is the top level.
    pub folder_uids: Vec<String>,
    pub folder_ids: Vec<i64>,
    pub starred: bool,
    pub limit: i64,
    /// 1-based.
    pub page: i64,
    /// Title order descending (`sort=alpha-desc`).
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub kind: SearchHitKind,
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub slug: String,
    pub tags: Vec<String>,
    pub is_starred: bool,
    pub folder_id: Option<i64>,
    pub folder_uid: Option<String>,
    pub folder_title: Option<String>,
}

/// Escapes LIKE's wildcards so the user's text matches literally (used with `ESCAPE '\'`).
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    pub async fn search(&self, q: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
        let limit = q.limit.clamp(1, 5000);
        let offset = (q.page.max(1) - 1).saturating_mul(limit);
        let wanted = offset + limit;
        let pattern = q
            .query
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_pattern);

        let dashboard_filters = !q.tags.is_empty()
            || q.starred
            || !q.dashboard_uids.is_empty()
            || !q.dashboard_ids.is_empty()
            || !q.folder_uids.is_empty()
            || !q.folder_ids.is_empty();
        let mut hits = Vec::new();
        if q.kind != Some(SearchHitKind::Dashboard) && !dashboard_filters {
            let mut sql = SqlBuilder::new("SELECT id, uid, title FROM folders WHERE org_id = ");
            sql.bind(q.org_id);
            if let Some(p) = &pattern {
                sql.push(" AND lower(title) LIKE ")
                    .bind(p.clone())
                    .push(" ESCAPE '\\'");
            }
            sql.push(if q.descending {
                " ORDER BY lower(title) DESC, id LIMIT "
            } else {
                " ORDER BY lower(title), id LIMIT "
            })
            .bind(wanted);
            let (text, args) = sql.build();
            let rows: Vec<(i64, String, String)> = sqlx::query_as_with(&text, args)
                .fetch_all(self.pool())
                .await?;
            hits.extend(rows.into_iter().map(|(id, uid, title)| SearchHit {
                kind: SearchHitKind::Folder,
                id,
                slug: crate::slugify(&title),
                uid,
                title,
                tags: Vec::new(),
                is_starred: false,
                folder_id: None,
                folder_uid: None,
                folder_title: None,
            }));
        }
        if q.kind != Some(SearchHitKind::Folder) {
            hits.extend(self.search_dashboards(q, pattern, wanted).await?);
        }
        Ok(hits
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }

    async fn search_dashboards(
        &self,
        q: &SearchQuery,
        pattern: Option<String>,
        wanted: i64,
    ) -> StoreResult<Vec<SearchHit>> {
        let mut sql = SqlBuilder::new(
            "SELECT d.id, d.uid, d.title, d.slug, d.tags, d.folder_id, f.uid, f.title, s.user_id \
             FROM dashboards d LEFT JOIN folders f ON f.id = d.folder_id \
             LEFT JOIN stars s ON s.dashboard_id = d.id AND s.user_id = ",
        );
        sql.bind(q.user_id.unwrap_or(-1));
        sql.push(" WHERE d.org_id = ").bind(q.org_id);
        if let Some(p) = pattern {
            sql.push(" AND lower(d.title) LIKE ")
                .bind(p)
                .push(" ESCAPE '\\'");
        }
        if !q.dashboard_uids.is_empty() {
            sql.push(" AND d.uid IN ")
                .bind_list(q.dashboard_uids.clone());
        }
        if !q.dashboard_ids.is_empty() {
            sql.push(" AND d.id IN ").bind_list(q.dashboard_ids.clone());
        }
        let include_general = q.folder_uids.iter().any(|u| u.is_empty() || u == "general")
            || q.folder_ids.contains(&0);
        let folder_uids: Vec<String> = q
            .folder_uids
            .iter()
            .filter(|u| !u.is_empty() && u.as_str() != "general")
            .cloned()
            .collect();
        let folder_ids: Vec<i64> = q.folder_ids.iter().copied().filter(|id| *id != 0).collect();
        if include_general || !folder_uids.is_empty() || !folder_ids.is_empty() {
            sql.push(" AND (1 = 0");
            if include_general {
                sql.push(" OR d.folder_id IS NULL");
            }
            if !folder_uids.is_empty() {
                sql.push(" OR f.uid IN ").bind_list(folder_uids);
            }
            if !folder_ids.is_empty() {
                sql.push(" OR d.folder_id IN ").bind_list(folder_ids);
            }
            sql.push(")");
        }
        if q.starred {
            sql.push(" AND s.user_id IS NOT NULL");
        }
        for tag in &q.tags {
            sql.push(" AND EXISTS (SELECT 1 FROM dashboard_tags t WHERE t.dashboard_id = d.id AND t.term = ")
                .bind(tag.clone())
                .push(")");
        }
        sql.push(if q.descending {
            " ORDER BY lower(d.title) DESC, d.id LIMIT "
        } else {
            " ORDER BY lower(d.title), d.id LIMIT "
        })
        .bind(wanted);
        let (text, args) = sql.build();
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as_with(&text, args)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|r| {
                let tags: Vec<String> = serde_json::from_str(&r.4)
                    .map_err(|e| StoreError::Corrupt(format!("tags of {}: {e}", r.1)))?;
                Ok(SearchHit {
                    kind: SearchHitKind::Dashboard,
                    id: r.0,
                    uid: r.1,
                    title: r.2,
                    slug: r.3,
                    tags,
                    folder_id: r.5,
                    folder_uid: r.6,
                    folder_title: r.7,
                    is_starred: r.8.is_some(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("CPU"), "%cpu%");
        assert_eq!(super::like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}

//! Catalogue search: substring words over each title's searched text,
//! filters, and keyset pagination in the desktop's sort orders, with one
//! portable query per backend (PostgreSQL's trigram index; SQLite's FTS5
//! trigram table or a scan in sort order).

use super::json_list;
use crate::db::{Backend, Db};
use shelfkeeper_domain::model::Contributor;
use sqlx::Row;

/// One search result row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HitRow {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub contributors: Vec<Contributor>,
    pub pub_year: Option<i64>,
    pub language: Option<String>,
    pub isbn13: Option<String>,
    pub copies: i64,
    pub available: i64,
    #[serde(skip)]
    pub sort_title: String,
    #[serde(skip)]
    pub author_sort: Option<String>,
    #[serde(skip)]
    pub created_at: i64,
    /// Relevance sort only: the tier (0 every word in the title, 1 in
    /// title, people, series or subjects, 2 anywhere) and the title's length.
    #[serde(skip)]
    pub rank: Option<(i64, i64)>,
}

/// The desktop's sort orders (`shelfkeeper_domain::search::SortOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Title,
    RecentlyAdded,
    Author,
    YearNewest,
    YearOldest,
    /// Needs words; without them a search is sorted by `RecentlyAdded`.
    Relevance,
}

impl Sort {
    /// The cursor key of a row in this order.
    pub fn key(self, h: &HitRow) -> String {
        match self {
            Sort::Title => h.sort_title.clone(),
            Sort::RecentlyAdded => h.created_at.to_string(),
            Sort::Author => h.author_sort.clone().unwrap_or_default(),
            Sort::YearNewest | Sort::YearOldest => h.pub_year.unwrap_or(0).to_string(),
            Sort::Relevance => h.rank.map(|(t, l)| format!("{t}:{l}")).unwrap_or_default(),
        }
    }
}

/// A search, already checked by the route.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub words: Vec<String>,
    pub language: Option<String>,
    pub tag: Option<String>,
    pub subject: Option<String>,
    pub year_from: Option<i64>,
    pub year_to: Option<i64>,
    pub available: bool,
    pub location: Option<String>,
    /// (sort key, id) of the last row of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
    /// SQLite plan: `None` chooses by match count; `Some(true)` forces the
    /// scan in sort order, `Some(false)` the trigram index (tests compare).
    pub force_scan: Option<bool>,
}

/// Above this many index matches for its rarest word, a SQLite search walks
/// the titles in sort order instead: matches are dense, so a page fills
/// after a few rows, while the index would hand over every match to sort.
pub const DENSE_MATCHES: i64 = 2_000;

/// `%`, `_` and `\` taken literally in a LIKE pattern (with `ESCAPE '\'`).
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

enum Arg {
    S(String),
    I(i64),
}

impl Db {
    /// The rarest plain word of a SQLite search, when it is rare enough for
    /// the trigram index to beat walking the titles in sort order. Counting
    /// stops at `DENSE_MATCHES`, so this costs little even for common words.
    async fn sqlite_index_word(&self, words: &[String], force_scan: Option<bool>) -> Result<Option<usize>, sqlx::Error> {
        if force_scan == Some(true) {
            return Ok(None);
        }
        let mut best: Option<(usize, i64)> = None;
        for (i, w) in words.iter().enumerate() {
            if w.contains(['%', '_', '\\']) || w.chars().count() < 3 {
                continue;
            }
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 FROM titles_search WHERE search_text LIKE $1 LIMIT $2) AS m")
                .bind(format!("%{w}%"))
                .bind(DENSE_MATCHES)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            if best.is_none_or(|(_, b)| n < b) {
                best = Some((i, n));
            }
        }
        Ok(match (best, force_scan) {
            (Some((i, _)), Some(false)) => Some(i),
            (Some((i, n)), _) if n < DENSE_MATCHES => Some(i),
            _ => None,
        })
    }

    /// Catalogue search: every word must occur (substring, case-insensitive)
    /// in the title's searched text; filters; keyset pagination in any of
    /// the desktop's sort orders. Fetches one row more than asked to know
    /// whether a next page exists.
    pub async fn search(&self, lib: &str, q: &Search, sort: Sort) -> Result<Vec<HitRow>, sqlx::Error> {
        let sort = if sort == Sort::Relevance && q.words.is_empty() { Sort::RecentlyAdded } else { sort };
        let mut args = vec![Arg::S(lib.to_owned())];
        let push = |a: Arg, args: &mut Vec<Arg>| {
            args.push(a);
            format!("${}", args.len())
        };
        // Backslash is PostgreSQL's default LIKE escape; SQLite is told.
        let esc = match self.backend {
            Backend::Postgres => "",
            Backend::Sqlite => " ESCAPE '\\'",
        };
        let word_params: Vec<String> = q.words.iter().map(|w| push(Arg::S(format!("%{}%", like_escape(w))), &mut args)).collect();
        let mut sql = String::from(
            "SELECT t.id, t.title, t.subtitle, t.contributors, t.pub_year, t.language, t.isbn13, t.sort_title, t.author_sort, t.created_at, \
             (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id) AS copies, \
             (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id AND c.status = 'available') AS available",
        );
        if sort == Sort::Relevance {
            let all_in = |col: &str| word_params.iter().map(|p| format!("t.{col} LIKE {p}{esc}")).collect::<Vec<_>>().join(" AND ");
            sql.push_str(&format!(
                ", CASE WHEN {} THEN 0 WHEN {} THEN 1 ELSE 2 END AS rank_tier, LENGTH(t.title) AS rank_len",
                all_in("title_text"),
                all_in("core_text")
            ));
        }
        sql.push_str(" FROM titles t WHERE t.library_id = $1");
        // SQLite: which word (if any) goes through the trigram index.
        let indexed_word = match self.backend {
            Backend::Sqlite => self.sqlite_index_word(&q.words, q.force_scan).await?,
            Backend::Postgres => None,
        };
        for (i, (w, p)) in q.words.iter().zip(&word_params).enumerate() {
            let plain = !w.contains(['%', '_', '\\']);
            match self.backend {
                // Without an ESCAPE clause the trigram index applies.
                Backend::Postgres => sql.push_str(&format!(" AND t.search_text LIKE {p}")),
                // The FTS5 trigram table answers plain patterns from its index.
                Backend::Sqlite if plain && indexed_word == Some(i) => {
                    sql.push_str(&format!(" AND t.id IN (SELECT title_id FROM titles_search WHERE search_text LIKE {p})"))
                }
                Backend::Sqlite => sql.push_str(&format!(" AND t.search_text LIKE {p}{esc}")),
            }
        }
        if let Some(l) = &q.language {
            let p = push(Arg::S(l.clone()), &mut args);
            sql.push_str(&format!(" AND t.language = {p}"));
        }
        // Tags and subjects are JSON arrays of strings: match the quoted element.
        if let Some(tag) = &q.tag {
            let p = push(Arg::S(format!("%{}%", like_escape(&serde_json::to_string(tag).unwrap_or_default()))), &mut args);
            sql.push_str(&format!(" AND t.tags LIKE {p} ESCAPE '\\'"));
        }
        if let Some(s) = &q.subject {
            let p = push(Arg::S(format!("%{}%", like_escape(&serde_json::to_string(s).unwrap_or_default()))), &mut args);
            sql.push_str(&format!(" AND t.subjects LIKE {p} ESCAPE '\\'"));
        }
        if let Some(y) = q.year_from {
            let p = push(Arg::I(y), &mut args);
            sql.push_str(&format!(" AND t.pub_year >= {p}"));
        }
        if let Some(y) = q.year_to {
            let p = push(Arg::I(y), &mut args);
            sql.push_str(&format!(" AND t.pub_year <= {p}"));
        }
        if q.available {
            sql.push_str(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.status = 'available')");
        }
        if let Some(loc) = &q.location {
            let p = push(Arg::S(loc.clone()), &mut args);
            sql.push_str(&format!(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.location = {p})"));
        }
        // The order's key expression; PostgreSQL compares text bytewise as SQLite does.
        let collate = if self.backend == Backend::Postgres { " COLLATE \"C\"" } else { "" };
        let (key_expr, text_key, descending) = match sort {
            Sort::Title => ("t.sort_title".to_owned(), true, false),
            Sort::RecentlyAdded => ("t.created_at".to_owned(), false, true),
            Sort::Author => (format!("COALESCE(t.author_sort, ''){collate}"), true, false),
            Sort::YearNewest => ("COALESCE(t.pub_year, 0)".to_owned(), false, true),
            Sort::YearOldest => ("COALESCE(t.pub_year, 0)".to_owned(), false, false),
            Sort::Relevance => (String::new(), false, false),
        };
        if sort == Sort::Relevance {
            // The rank is computed per row: wrap, then page on (tier, length, id).
            sql = format!("SELECT * FROM ({sql}) h WHERE 1 = 1");
            if let Some((key, id)) = &q.after {
                let (tier, len) = key.split_once(':').and_then(|(t, l)| Some((t.parse().ok()?, l.parse().ok()?))).unwrap_or((i64::MAX, 0));
                let t = push(Arg::I(tier), &mut args);
                let l = push(Arg::I(len), &mut args);
                let i = push(Arg::S(id.clone()), &mut args);
                sql.push_str(&format!(
                    " AND (h.rank_tier > {t} OR (h.rank_tier = {t} AND (h.rank_len > {l} OR (h.rank_len = {l} AND h.id > {i}))))"
                ));
            }
            sql.push_str(" ORDER BY h.rank_tier, h.rank_len, h.id");
        } else {
            if let Some((key, id)) = &q.after {
                let k = if text_key { push(Arg::S(key.clone()), &mut args) } else { push(Arg::I(key.parse().unwrap_or(0)), &mut args) };
                let i = push(Arg::S(id.clone()), &mut args);
                let (cmp, id_cmp) = if descending { ("<", "<") } else { (">", ">") };
                sql.push_str(&format!(" AND ({key_expr} {cmp} {k} OR ({key_expr} = {k} AND t.id {id_cmp} {i}))"));
            }
            let dir = if descending { " DESC" } else { "" };
            sql.push_str(&format!(" ORDER BY {key_expr}{dir}, t.id{dir}"));
        }
        let p = push(Arg::I(q.limit + 1), &mut args);
        sql.push_str(&format!(" LIMIT {p}"));
        // Only fixed fragments and `$N` placeholders are spliced in; every
        // value the caller sent is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = match a {
                Arg::S(s) => query.bind(s),
                Arg::I(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let rank = if sort == Sort::Relevance { Some((r.try_get("rank_tier")?, r.try_get("rank_len")?)) } else { None };
                Ok(HitRow {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    subtitle: r.try_get("subtitle")?,
                    contributors: json_list(r, "contributors")?,
                    pub_year: r.try_get("pub_year")?,
                    language: r.try_get("language")?,
                    isbn13: r.try_get("isbn13")?,
                    copies: r.try_get("copies")?,
                    available: r.try_get("available")?,
                    sort_title: r.try_get("sort_title")?,
                    author_sort: r.try_get("author_sort")?,
                    created_at: r.try_get("created_at")?,
                    rank,
                })
            })
            .collect()
    }
}

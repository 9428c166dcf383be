//! Catalogue search over the FTS5 index.
//!
//! Relevance without scoring every match: the index key of a title is
//! `(title length bucket << 40) | seq`, so FTS5's natural rowid order is
//! "shortest title first". A query is answered tier by tier:
//!   0. every word in the title (or subtitle),
//!   1. every word in title/people/series/subjects/tags, not tier 0,
//!   2. every word anywhere (notes, publisher, identifiers), not tier 1.
//!
//! Each tier is read in key order with `LIMIT`, so the cost is the page size,
//! not the number of matches — "the" matching half the collection costs the
//! same as a rare word. Keyset cursors are (tier, key): exact and stable.
//!
//! Other sort orders pick a plan by a bounded match count: few matches are
//! fetched and sorted; many are found by walking the sort index and probing
//! the FTS index by key.

use crate::rows::RowExt;
use crate::{Store, db_err};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::Contributor;
use shelfkeeper_domain::search::{FacetValue, Facets, Filters, MatchCount, SearchPage, SearchRequest, SortOrder, TextQuery, TitleHit};
use shelfkeeper_domain::{Error, Result};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe};

/// The FTS key of a title row, as SQL over `t`.
const KEY_OF_T: &str = "((min(length(t.title), 255) << 40) | t.seq)";
const SEQ_MASK: i64 = (1 << 40) - 1;
/// Matches counted before the count becomes "N+".
const COUNT_BOUND: i64 = 1000;
/// Matches a non-relevance sort will fetch and sort in memory.
const SORT_IN_MEMORY_BOUND: i64 = 5000;
/// Matches facets are counted over.
const FACET_SAMPLE: i64 = 1000;

const TIER_COLUMNS: [&[&str]; 2] = [&["title"], &["title", "people", "series", "subjects"]];

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "k")]
enum Cursor {
    /// Relevance: next tier and key to continue after.
    R { tier: u8, key: i64 },
    /// Sorted by a text column, then seq.
    S { v: String, seq: i64 },
    /// Sorted by an integer column, then seq.
    I { v: i64, seq: i64 },
}

fn encode(c: &Cursor) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

fn decode(s: &str) -> Result<Cursor> {
    serde_json::from_str(s).map_err(|_| Error::invalid("cursor", "is not a cursor from this search; start from the first page"))
}

/// SQL predicates for the filters, over titles `t`, with their arguments.
struct FilterSql {
    sql: String,
    args: Vec<FilterArg>,
}

#[derive(Clone)]
enum FilterArg {
    Text(String),
    Int(i64),
}

fn filter_sql(f: &Filters) -> FilterSql {
    let mut sql = String::new();
    let mut args = Vec::new();
    if let Some(s) = f.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        sql.push_str(" AND EXISTS (SELECT 1 FROM title_terms tt WHERE tt.kind = 'subject' AND tt.value = ? AND tt.title_seq = t.seq)");
        args.push(FilterArg::Text(s.into()));
    }
    if let Some(s) = f.tag.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        sql.push_str(" AND EXISTS (SELECT 1 FROM title_terms tt WHERE tt.kind = 'tag' AND tt.value = ? AND tt.title_seq = t.seq)");
        args.push(FilterArg::Text(s.into()));
    }
    if let Some(l) = f.language.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        sql.push_str(" AND t.language = ?");
        args.push(FilterArg::Text(l.to_lowercase()));
    }
    if let Some(y) = f.year_from {
        sql.push_str(" AND t.pub_year >= ?");
        args.push(FilterArg::Int(y.into()));
    }
    if let Some(y) = f.year_to {
        sql.push_str(" AND t.pub_year <= ?");
        args.push(FilterArg::Int(y.into()));
    }
    if f.available {
        sql.push_str(" AND t.available_count > 0");
    }
    if let Some(loc) = f.location.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        sql.push_str(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.location = ?)");
        args.push(FilterArg::Text(loc.into()));
    }
    FilterSql { sql, args }
}

/// Builds arguments in order; binding errors only happen on type mismatch,
/// which cannot occur with these types.
#[derive(Default)]
struct Args(SqliteArguments);

impl Args {
    fn text(&mut self, s: impl Into<String>) -> &mut Self {
        let _ = self.0.add(s.into());
        self
    }
    fn int(&mut self, i: i64) -> &mut Self {
        let _ = self.0.add(i);
        self
    }
    fn all(&mut self, args: &[FilterArg]) -> &mut Self {
        for a in args {
            match a {
                FilterArg::Text(s) => self.text(s.clone()),
                FilterArg::Int(i) => self.int(*i),
            };
        }
        self
    }
    fn filters(&mut self, f: &FilterSql) -> &mut Self {
        self.all(&f.args)
    }
}

fn hit_from_row(r: &SqliteRow) -> Result<TitleHit> {
    let contributors: Vec<Contributor> = r.json("contributors")?;
    Ok(TitleHit {
        id: TitleId(r.uuid("id")?),
        title: r.text("title")?,
        subtitle: r.opt_text("subtitle")?,
        authors: contributors.into_iter().map(|c| c.name).collect(),
        year: r.opt_int("pub_year")?.map(|y| y as i32),
        isbn13: r.opt_text("isbn13")?,
        language: r.opt_text("language")?,
        copy_count: r.int("copy_count")?,
        available_count: r.int("available_count")?,
        cover_ref: r.opt_text("cover_ref")?,
    })
}

const HIT_COLUMNS: &str = "t.seq, t.id, t.title, t.subtitle, t.contributors, t.pub_year, t.isbn13, t.language, t.copy_count, \
     t.available_count, t.cover_ref, t.sort_title, t.author_sort";

impl Store {
    pub async fn search(&self, req: &SearchRequest) -> Result<SearchPage> {
        let limit = i64::from(req.page_size());
        let filters = filter_sql(&req.filters);
        let cursor = req.cursor.as_deref().map(decode).transpose()?;
        if let Some(y) = (req.filters.year_from).zip(req.filters.year_to).filter(|(a, b)| a > b) {
            return Err(Error::invalid("year_to", format!("{} is before {}", y.1, y.0)));
        }
        let text = req.text.trim();
        if Isbn::looks_like_isbn(text)
            && let Ok(isbn) = Isbn::parse(text)
        {
            return self.search_isbn(&isbn, &filters).await;
        }
        match TextQuery::parse(text) {
            None => self.browse(req.sort, &filters, cursor, limit).await,
            Some(q) if req.sort == SortOrder::Relevance => self.search_relevance(&q, &filters, cursor, limit).await,
            Some(q) => self.search_sorted(&q, req.sort, &filters, cursor, limit).await,
        }
    }

    async fn search_isbn(&self, isbn: &Isbn, filters: &FilterSql) -> Result<SearchPage> {
        let sql = format!("SELECT {HIT_COLUMNS} FROM titles t WHERE t.isbn13 = ?{}", filters.sql);
        let mut args = Args::default();
        args.text(isbn.as_str()).filters(filters);
        let rows = sqlx::query_with(AssertSqlSafe(sql), args.0).fetch_all(&self.read).await.map_err(db_err)?;
        let hits = rows.iter().map(hit_from_row).collect::<Result<Vec<_>>>()?;
        Ok(SearchPage { total: MatchCount { value: hits.len() as u64, exact: true }, hits, next_cursor: None })
    }

    async fn search_relevance(&self, q: &TextQuery, filters: &FilterSql, cursor: Option<Cursor>, limit: i64) -> Result<SearchPage> {
        let (mut tier, mut after) = match cursor {
            None => (0u8, -1i64),
            Some(Cursor::R { tier, key }) => (tier, key),
            Some(_) => return Err(Error::invalid("cursor", "belongs to another sort order")),
        };
        let total = if tier == 0 && after < 0 { Some(self.count_matches(&q.fts_expression(), filters).await?) } else { None };
        let mut hits = Vec::new();
        let mut next = None;
        loop {
            let want = limit - hits.len() as i64;
            let sql = format!(
                "SELECT f.rowid AS key, {HIT_COLUMNS} FROM title_fts f JOIN titles t ON t.seq = (f.rowid & {SEQ_MASK})
                 WHERE title_fts MATCH ? AND f.rowid > ?{} ORDER BY f.rowid LIMIT ?",
                filters.sql
            );
            let mut args = Args::default();
            args.text(tier_expression(q, tier)).int(after).filters(filters).int(want + 1);
            let rows = sqlx::query_with(AssertSqlSafe(sql), args.0).fetch_all(&self.read).await.map_err(db_err)?;
            let take = rows.len().min(want as usize);
            for r in &rows[..take] {
                hits.push(hit_from_row(r)?);
            }
            if rows.len() > take {
                // More in this tier: continue after the last row shown.
                next = Some(Cursor::R { tier, key: rows[take - 1].int("key")? });
                break;
            }
            if tier == 2 {
                break;
            }
            if hits.len() as i64 == limit {
                next = Some(Cursor::R { tier: tier + 1, key: -1 });
                break;
            }
            tier += 1;
            after = -1;
        }
        let total = total.unwrap_or(MatchCount { value: 0, exact: false });
        Ok(SearchPage { hits, next_cursor: next.as_ref().map(encode), total })
    }

    /// Matches (with filters) counted up to a bound.
    async fn count_matches(&self, expr: &str, filters: &FilterSql) -> Result<MatchCount> {
        let sql = if filters.sql.is_empty() {
            "SELECT count(*) FROM (SELECT 1 FROM title_fts WHERE title_fts MATCH ? LIMIT ?)".to_string()
        } else {
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM title_fts f JOIN titles t ON t.seq = (f.rowid & {SEQ_MASK})
                 WHERE title_fts MATCH ?{} LIMIT ?)",
                filters.sql
            )
        };
        let mut args = Args::default();
        args.text(expr).filters(filters).int(COUNT_BOUND + 1);
        let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), args.0).fetch_one(&self.read).await.map_err(db_err)?;
        Ok(MatchCount { value: n.min(COUNT_BOUND) as u64, exact: n <= COUNT_BOUND })
    }

    /// Without text: the catalogue in the chosen order, filtered.
    async fn browse(&self, sort: SortOrder, filters: &FilterSql, cursor: Option<Cursor>, limit: i64) -> Result<SearchPage> {
        let first = cursor.is_none();
        let plan = SortPlan::of(sort);
        let (keyset, keyset_args) = plan.keyset(cursor)?;
        let sql = format!("SELECT {HIT_COLUMNS} FROM titles t WHERE 1{keyset}{} ORDER BY {} LIMIT ?", filters.sql, plan.order_by);
        let mut args = Args::default();
        args.all(&keyset_args).filters(filters).int(limit + 1);
        let rows = sqlx::query_with(AssertSqlSafe(sql), args.0).fetch_all(&self.read).await.map_err(db_err)?;
        let (hits, next_cursor) = plan.page(&rows, limit)?;
        let total = if first {
            let sql = format!("SELECT count(*) FROM (SELECT 1 FROM titles t WHERE 1{} LIMIT ?)", filters.sql);
            let mut a = Args::default();
            a.filters(filters).int(COUNT_BOUND + 1);
            let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), a.0).fetch_one(&self.read).await.map_err(db_err)?;
            MatchCount { value: n.min(COUNT_BOUND) as u64, exact: n <= COUNT_BOUND }
        } else {
            MatchCount { value: 0, exact: false }
        };
        Ok(SearchPage { hits, next_cursor, total })
    }

    /// Text with a sort other than relevance.
    async fn search_sorted(
        &self,
        q: &TextQuery,
        sort: SortOrder,
        filters: &FilterSql,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> Result<SearchPage> {
        let expr = q.fts_expression();
        let first = cursor.is_none();
        let plan = SortPlan::of(sort);
        let (keyset, keyset_args) = plan.keyset(cursor)?;
        let matches: i64 = sqlx::query_scalar("SELECT count(*) FROM (SELECT 1 FROM title_fts WHERE title_fts MATCH ? LIMIT ?)")
            .bind(&expr)
            .bind(SORT_IN_MEMORY_BOUND + 1)
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        let sql = if matches <= SORT_IN_MEMORY_BOUND {
            // Few matches: fetch them all through the index and sort.
            format!(
                "SELECT {HIT_COLUMNS} FROM titles t
                 WHERE t.seq IN (SELECT rowid & {SEQ_MASK} FROM title_fts WHERE title_fts MATCH ?){keyset}{} ORDER BY {} LIMIT ?",
                filters.sql, plan.order_by
            )
        } else {
            // Many matches: walk the sort order, probe the index per title.
            format!(
                "SELECT {HIT_COLUMNS} FROM titles t
                 WHERE EXISTS (SELECT 1 FROM title_fts WHERE title_fts MATCH ? AND rowid = {KEY_OF_T}){keyset}{} ORDER BY {} LIMIT ?",
                filters.sql, plan.order_by
            )
        };
        let mut args = Args::default();
        args.text(expr.clone()).all(&keyset_args).filters(filters).int(limit + 1);
        let rows = sqlx::query_with(AssertSqlSafe(sql), args.0).fetch_all(&self.read).await.map_err(db_err)?;
        let (hits, next_cursor) = plan.page(&rows, limit)?;
        let total = if first { self.count_matches(&expr, filters).await? } else { MatchCount { value: 0, exact: false } };
        Ok(SearchPage { hits, next_cursor, total })
    }

    /// Facet counts for a search, over its best [`FACET_SAMPLE`] matches.
    pub async fn facets(&self, req: &SearchRequest) -> Result<Facets> {
        let filters = filter_sql(&req.filters);
        let q = TextQuery::parse(req.text.trim());
        let candidates = match &q {
            Some(_) => format!(
                "SELECT t.seq, t.id, t.language, t.pub_year, t.available_count FROM title_fts f JOIN titles t ON t.seq = (f.rowid & {SEQ_MASK})
                 WHERE title_fts MATCH ?{} ORDER BY f.rowid LIMIT ?",
                filters.sql
            ),
            None => format!(
                "SELECT t.seq, t.id, t.language, t.pub_year, t.available_count FROM titles t WHERE 1{} ORDER BY t.seq DESC LIMIT ?",
                filters.sql
            ),
        };
        // CROSS JOIN keeps the sample as the outer loop: otherwise SQLite may
        // scan every subject in the catalogue and probe the sample.
        let sql = format!(
            "WITH c AS MATERIALIZED ({candidates})
             SELECT * FROM (SELECT 'subject' AS facet, tt.value AS value, count(*) AS n FROM c CROSS JOIN title_terms tt ON tt.title_seq = c.seq
                            WHERE tt.kind = 'subject' GROUP BY tt.value ORDER BY n DESC, value LIMIT 20)
             UNION ALL SELECT * FROM (SELECT 'tag', tt.value, count(*) AS n FROM c CROSS JOIN title_terms tt ON tt.title_seq = c.seq
                            WHERE tt.kind = 'tag' GROUP BY tt.value ORDER BY n DESC, tt.value LIMIT 20)
             UNION ALL SELECT * FROM (SELECT 'language', c.language, count(*) AS n FROM c WHERE c.language IS NOT NULL
                            GROUP BY c.language ORDER BY n DESC LIMIT 20)
             UNION ALL SELECT * FROM (SELECT 'decade', (c.pub_year / 10) * 10, count(*) AS n FROM c WHERE c.pub_year IS NOT NULL
                            GROUP BY c.pub_year / 10 ORDER BY 2 DESC LIMIT 30)
             UNION ALL SELECT * FROM (SELECT 'location', cp.location, count(DISTINCT c.seq) AS n FROM c CROSS JOIN copies cp ON cp.title_id = c.id
                            WHERE cp.location IS NOT NULL GROUP BY cp.location ORDER BY n DESC LIMIT 20)
             UNION ALL SELECT 'available', NULL, count(*) FROM c WHERE c.available_count > 0
             UNION ALL SELECT 'sample', NULL, count(*) FROM c"
        );
        let mut args = Args::default();
        if let Some(q) = &q {
            args.text(q.fts_expression());
        }
        args.filters(&filters).int(FACET_SAMPLE + 1);
        let rows = sqlx::query_with(AssertSqlSafe(sql), args.0).fetch_all(&self.read).await.map_err(db_err)?;
        let mut f = Facets::default();
        for r in &rows {
            let facet: String = r.text("facet")?;
            let n = r.int("n")?.max(0) as u64;
            let value = || -> Result<String> {
                use sqlx::Row;
                let v: Option<String> = r
                    .try_get::<Option<String>, _>("value")
                    .or_else(|_| r.try_get::<Option<i64>, _>("value").map(|o| o.map(|i| i.to_string())))
                    .map_err(|e| Error::Storage(e.to_string()))?;
                Ok(v.unwrap_or_default())
            };
            let fv = |v: String| FacetValue { value: v, count: n };
            match facet.as_str() {
                "subject" => f.subjects.push(fv(value()?)),
                "tag" => f.tags.push(fv(value()?)),
                "language" => f.languages.push(fv(value()?)),
                "decade" => f.decades.push(fv(value()?)),
                "location" => f.locations.push(fv(value()?)),
                "available" => f.available = n,
                "sample" => {
                    f.exact = (n as i64) <= FACET_SAMPLE;
                    f.sample = n.min(FACET_SAMPLE as u64);
                }
                _ => {}
            }
        }
        Ok(f)
    }
}

fn tier_expression(q: &TextQuery, tier: u8) -> String {
    match tier {
        0 => q.fts_in_columns(TIER_COLUMNS[0]),
        1 => format!("({}) NOT ({})", q.fts_in_columns(TIER_COLUMNS[1]), q.fts_in_columns(TIER_COLUMNS[0])),
        _ => format!("({}) NOT ({})", q.fts_expression(), q.fts_in_columns(TIER_COLUMNS[1])),
    }
}

/// How one sort order is expressed: ORDER BY, keyset predicate, cursor.
struct SortPlan {
    order_by: &'static str,
    kind: SortKind,
}

enum SortKind {
    SeqDesc,
    Text { col: &'static str },
    YearDesc,
    YearAsc,
}

impl SortPlan {
    fn of(sort: SortOrder) -> SortPlan {
        match sort {
            SortOrder::Relevance | SortOrder::RecentlyAdded => SortPlan { order_by: "t.seq DESC", kind: SortKind::SeqDesc },
            SortOrder::Title => SortPlan { order_by: "t.sort_title, t.seq", kind: SortKind::Text { col: "sort_title" } },
            SortOrder::Author => SortPlan { order_by: "t.author_sort, t.seq", kind: SortKind::Text { col: "author_sort" } },
            SortOrder::YearNewest => SortPlan { order_by: "ifnull(t.pub_year, 0) DESC, t.seq DESC", kind: SortKind::YearDesc },
            SortOrder::YearOldest => SortPlan { order_by: "ifnull(t.pub_year, 0), t.seq", kind: SortKind::YearAsc },
        }
    }

    /// The keyset predicate continuing after `cursor`, and its arguments.
    fn keyset(&self, cursor: Option<Cursor>) -> Result<(String, Vec<FilterArg>)> {
        use FilterArg::{Int, Text};
        Ok(match (&self.kind, cursor) {
            (_, None) => (String::new(), vec![]),
            (SortKind::SeqDesc, Some(Cursor::I { seq, .. })) => (" AND t.seq < ?".into(), vec![Int(seq)]),
            (SortKind::Text { col }, Some(Cursor::S { v, seq })) => (format!(" AND (t.{col}, t.seq) > (?, ?)"), vec![Text(v), Int(seq)]),
            (SortKind::YearDesc, Some(Cursor::I { v, seq })) => {
                (" AND (ifnull(t.pub_year, 0), t.seq) < (?, ?)".into(), vec![Int(v), Int(seq)])
            }
            (SortKind::YearAsc, Some(Cursor::I { v, seq })) => {
                (" AND (ifnull(t.pub_year, 0), t.seq) > (?, ?)".into(), vec![Int(v), Int(seq)])
            }
            _ => return Err(Error::invalid("cursor", "belongs to another sort order")),
        })
    }

    /// The page's hits and the cursor after its last row (rows hold one
    /// more than `limit` when there is a next page).
    fn page(&self, rows: &[SqliteRow], limit: i64) -> Result<(Vec<TitleHit>, Option<String>)> {
        let more = rows.len() as i64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let hits = rows.iter().map(hit_from_row).collect::<Result<Vec<_>>>()?;
        let next = match (more, rows.last()) {
            (true, Some(r)) => {
                let seq = r.int("seq")?;
                Some(encode(&match &self.kind {
                    SortKind::SeqDesc => Cursor::I { v: 0, seq },
                    SortKind::Text { col } => Cursor::S { v: r.text(col)?, seq },
                    SortKind::YearDesc | SortKind::YearAsc => Cursor::I { v: r.opt_int("pub_year")?.unwrap_or(0), seq },
                }))
            }
            _ => None,
        };
        Ok((hits, next))
    }
}

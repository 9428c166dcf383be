//! Facets of a search: counts by subject, tag, language, decade and
//! location over its best matches, as the desktop shows them.

use super::json_list;
use super::search::{Search, Sort};
use crate::db::Db;
use shelfkeeper_domain::search::{FacetValue, Facets};
use sqlx::Row;

impl Db {
    /// Counts by subject, tag, language, decade and location over the best
    /// `FACET_SAMPLE` matches of a search (as the desktop's facets): the
    /// matches are read in relevance order (newest first without words).
    pub async fn facets(&self, lib: &str, q: &Search) -> Result<Facets, sqlx::Error> {
        let sample = Search { after: None, limit: FACET_SAMPLE, ..q.clone() };
        let hits = self.search(lib, &sample, Sort::Relevance).await?;
        let exact = hits.len() as i64 <= FACET_SAMPLE;
        let hits = &hits[..hits.len().min(FACET_SAMPLE as usize)];
        let mut f = Facets { sample: hits.len() as u64, exact, ..Facets::default() };
        if hits.is_empty() {
            return Ok(f);
        }
        // Subjects and tags live on the title row; locations on its copies.
        let mut args: Vec<String> = vec![lib.to_owned()];
        let list = hits
            .iter()
            .map(|h| {
                args.push(h.id.clone());
                format!("${}", args.len())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id, subjects, tags FROM titles WHERE library_id = $1 AND id IN ({list})");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &args {
            query = query.bind(a.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let (mut subjects, mut tags, mut languages, mut decades, mut locations) =
            (Counter::default(), Counter::default(), Counter::default(), Counter::default(), Counter::default());
        for r in &rows {
            for s in json_list::<String>(r, "subjects")? {
                subjects.add(s);
            }
            for t in json_list::<String>(r, "tags")? {
                tags.add(t);
            }
        }
        for h in hits {
            if let Some(l) = &h.language {
                languages.add(l.clone());
            }
            if let Some(y) = h.pub_year {
                decades.add((y.div_euclid(10) * 10).to_string());
            }
        }
        f.available = hits.iter().filter(|h| h.available > 0).count() as u64;
        let sql = format!(
            "SELECT DISTINCT title_id, location FROM copies WHERE library_id = $1 AND location IS NOT NULL AND title_id IN ({list})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &args {
            query = query.bind(a.clone());
        }
        for r in query.fetch_all(&self.pool).await? {
            locations.add(r.try_get("location")?);
        }
        f.subjects = subjects.top(20);
        f.tags = tags.top(20);
        f.languages = languages.top(20);
        f.locations = locations.top(20);
        // Decades newest first, as on the desktop.
        let mut d = decades.0.into_iter().map(|(value, count)| FacetValue { value, count }).collect::<Vec<_>>();
        d.sort_by_key(|v| std::cmp::Reverse(v.value.parse::<i64>().unwrap_or(0)));
        d.truncate(30);
        f.decades = d;
        Ok(f)
    }
}

/// How many of the best matches facets are counted over (as the desktop).
pub const FACET_SAMPLE: i64 = 1_000;

#[derive(Default)]
struct Counter(std::collections::HashMap<String, u64>);

impl Counter {
    fn add(&mut self, v: String) {
        *self.0.entry(v).or_default() += 1;
    }

    /// The `n` most frequent values, ties by value.
    fn top(self, n: usize) -> Vec<FacetValue> {
        let mut v: Vec<FacetValue> = self.0.into_iter().map(|(value, count)| FacetValue { value, count }).collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v.truncate(n);
        v
    }
}

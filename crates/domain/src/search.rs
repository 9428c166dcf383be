//! Catalogue search: the request, the result page, facets, and the
//! translation of what a person types into a safe FTS5 expression.

use crate::ids::TitleId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SearchRequest {
    /// Free text. Every word must match (in any field); the last word also
    /// matches as a prefix, so results follow typing. An ISBN-10/13 finds
    /// that edition.
    pub text: String,
    pub filters: Filters,
    pub sort: SortOrder,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Filters {
    pub subject: Option<String>,
    pub tag: Option<String>,
    pub language: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    /// Only titles with at least one copy on the shelf.
    pub available: bool,
    /// Only titles with a copy at this location.
    pub location: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Best match first: all words in the title, then in people/series/
    /// subjects/tags, then anywhere; within each, shorter titles first.
    /// Without text, newest additions first.
    #[default]
    Relevance,
    Title,
    Author,
    YearNewest,
    YearOldest,
    RecentlyAdded,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

impl SearchRequest {
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
    }
}

/// One row of a result list: enough for a list or card, not the whole record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TitleHit {
    pub id: TitleId,
    pub title: String,
    pub subtitle: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub isbn13: Option<String>,
    pub language: Option<String>,
    pub copy_count: i64,
    pub available_count: i64,
    pub cover_ref: Option<String>,
}

/// How many titles matched. Counting every match of a very common word
/// would cost more than finding the page, so past a bound the count is a
/// floor (`exact: false`, shown as "10,000+").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MatchCount {
    pub value: u64,
    pub exact: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SearchPage {
    pub hits: Vec<TitleHit>,
    pub next_cursor: Option<String>,
    pub total: MatchCount,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts by category for the current search, to narrow it down. Computed
/// over the best `sample` matches; `exact` when that was all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Facets {
    pub subjects: Vec<FacetValue>,
    pub tags: Vec<FacetValue>,
    pub languages: Vec<FacetValue>,
    pub decades: Vec<FacetValue>,
    pub locations: Vec<FacetValue>,
    pub available: u64,
    pub sample: u64,
    pub exact: bool,
}

/// The words of a query, as FTS5 will tokenise them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextQuery {
    pub words: Vec<String>,
    /// The last word is matched as a prefix (the person is still typing).
    pub last_is_prefix: bool,
}

/// Shortest word matched as a prefix: one letter would match most of the
/// collection and tell the reader nothing.
pub const MIN_PREFIX_LEN: usize = 2;

/// Longest prefix the index holds ready-made (FTS5 `prefix = '2 3 4 5 6'`).
/// A longer word being typed matches on its first six letters, a cheap
/// stem ("historic" finds history, historical, historian): a prefix the
/// index does not hold makes FTS5 merge the lists of every matching word,
/// 10-25 ms for a common word at 500,000 titles, instead of streaming.
pub const MAX_PREFIX_LEN: usize = 6;

impl TextQuery {
    /// Splits on anything that is not a letter or digit, like FTS5's
    /// unicode61 tokenizer, so no FTS5 syntax from the input survives.
    pub fn parse(text: &str) -> Option<TextQuery> {
        let words: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).take(16).collect();
        if words.is_empty() {
            return None;
        }
        let ends_in_word = text.chars().last().is_some_and(char::is_alphanumeric);
        let last_is_prefix = ends_in_word && words.last().is_some_and(|w| w.chars().count() >= MIN_PREFIX_LEN);
        Some(TextQuery { words, last_is_prefix })
    }

    /// An FTS5 expression: every word as a quoted string (quotes doubled),
    /// joined by AND, the last with `*` when it is a prefix.
    pub fn fts_expression(&self) -> String {
        let n = self.words.len();
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i + 1 == n && self.last_is_prefix {
                    let stem: String = w.chars().take(MAX_PREFIX_LEN).collect();
                    format!("\"{}\"*", stem.replace('"', "\"\""))
                } else {
                    format!("\"{}\"", w.replace('"', "\"\""))
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The same expression restricted to some columns.
    pub fn fts_in_columns(&self, columns: &[&str]) -> String {
        format!("{{{}}} : ({})", columns.join(" "), self.fts_expression())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_becomes_a_safe_expression() {
        let q = TextQuery::parse("Dune herb").unwrap();
        assert_eq!(q.fts_expression(), r#""dune" AND "herb"*"#);
        let q = TextQuery::parse("dune ").unwrap();
        assert_eq!(q.fts_expression(), r#""dune""#);
        let q = TextQuery::parse(r#"title:"x" OR NEAR(a b) *"#).unwrap();
        assert_eq!(q.fts_expression(), r#""title" AND "x" AND "or" AND "near" AND "a" AND "b""#);
        assert!(TextQuery::parse(" -- ").is_none());
        let q = TextQuery::parse("historic").unwrap();
        assert_eq!(q.fts_expression(), r#""histor"*"#);
        let q = TextQuery::parse("war a").unwrap();
        assert!(!q.last_is_prefix, "one-letter prefixes are not expanded");
        assert_eq!(q.fts_in_columns(&["title"]), r#"{title} : ("war" AND "a")"#);
    }
}

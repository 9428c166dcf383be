//! Titles: what a person submits, what validation makes of it, what is stored.

use crate::error::{Error, Result};
use crate::ids::*;
use crate::isbn::Isbn;
use crate::text::{bounded, clean};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Contributor {
    pub name: String,
    /// "author", "editor", "translator", "illustrator", "narrator", ...
    #[serde(default = "default_role")]
    pub role: String,
}

fn default_role() -> String {
    "author".into()
}

impl Contributor {
    pub fn author(name: impl Into<String>) -> Self {
        Contributor { name: name.into(), role: default_role() }
    }
}

/// A title as submitted by a person or an import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct TitleDraft {
    pub title: String,
    pub subtitle: Option<String>,
    pub contributors: Vec<Contributor>,
    pub subjects: Vec<String>,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub series_number: Option<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    /// "2021", "2021-05" or "2021-05-17".
    pub published: Option<String>,
    pub pages: Option<i64>,
    /// ISBN-10 or ISBN-13 as typed; stored as ISBN-13.
    pub isbn: Option<String>,
    pub lccn: Option<String>,
    pub call_number: Option<String>,
    pub notes: Option<String>,
    pub cover_ref: Option<String>,
}

/// A validated, normalised title ready to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidTitle {
    pub title: String,
    pub subtitle: Option<String>,
    pub sort_title: String,
    pub contributors: Vec<Contributor>,
    pub subjects: Vec<String>,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub series_number: Option<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<String>,
    pub pub_year: Option<i32>,
    pub pages: Option<i64>,
    pub isbn: Option<Isbn>,
    pub lccn: Option<String>,
    pub call_number: Option<String>,
    pub notes: Option<String>,
    pub cover_ref: Option<String>,
}

impl ValidTitle {
    /// The normalised values as a draft (ISBN as ISBN-13), to compare with
    /// a stored title's `draft()`.
    pub fn draft(&self) -> TitleDraft {
        TitleDraft {
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            contributors: self.contributors.clone(),
            subjects: self.subjects.clone(),
            tags: self.tags.clone(),
            series: self.series.clone(),
            series_number: self.series_number.clone(),
            language: self.language.clone(),
            publisher: self.publisher.clone(),
            published: self.published.clone(),
            pages: self.pages,
            isbn: self.isbn.as_ref().map(|i| i.to_string()),
            lccn: self.lccn.clone(),
            call_number: self.call_number.clone(),
            notes: self.notes.clone(),
            cover_ref: self.cover_ref.clone(),
        }
    }

    /// The first contributor's sort key, used to sort by author.
    pub fn author_sort(&self) -> Option<String> {
        self.contributors.first().map(|c| crate::text::person_sort_key(&c.name))
    }
}

fn clean_list(field: &'static str, values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if v.chars().count() > 200 {
            return Err(Error::invalid(field, format!("'{}…' is longer than 200 characters", v.chars().take(20).collect::<String>())));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.to_string());
        }
    }
    if out.len() > 100 {
        return Err(Error::invalid(field, "has more than 100 entries"));
    }
    Ok(out)
}

/// Parses "YYYY", "YYYY-MM" or "YYYY-MM-DD" and returns the year.
pub fn parse_published(s: &str) -> Result<i32> {
    let bad = || Error::invalid("published", format!("'{s}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD"));
    let parts: Vec<&str> = s.split('-').collect();
    let year: i32 = match parts.first() {
        Some(y) if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()) => y.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    match parts.len() {
        1 => {}
        2 => {
            let m: u32 = parts[1].parse().map_err(|_| bad())?;
            if parts[1].len() != 2 || !(1..=12).contains(&m) {
                return Err(bad());
            }
        }
        3 => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
        }
        _ => return Err(bad()),
    }
    Ok(year)
}

impl TitleDraft {
    pub fn validate(&self) -> Result<ValidTitle> {
        let title = self.title.trim().to_string();
        if title.is_empty() {
            return Err(Error::invalid("title", "is required"));
        }
        if title.chars().count() > 1000 {
            return Err(Error::invalid("title", "is longer than 1000 characters"));
        }
        let mut contributors = Vec::with_capacity(self.contributors.len());
        for c in &self.contributors {
            let name = c.name.trim();
            if name.is_empty() {
                continue;
            }
            if name.chars().count() > 300 {
                return Err(Error::invalid("contributors", "a name is longer than 300 characters"));
            }
            let role = c.role.trim().to_lowercase();
            contributors.push(Contributor { name: name.to_string(), role: if role.is_empty() { default_role() } else { role } });
        }
        let isbn = match clean(self.isbn.as_deref()) {
            Some(raw) => Some(Isbn::parse(&raw)?),
            None => None,
        };
        let language = match clean(self.language.as_deref()) {
            Some(l) => {
                let l = l.to_lowercase();
                if !(2..=3).contains(&l.len()) || !l.chars().all(|c| c.is_ascii_lowercase()) {
                    return Err(Error::invalid("language", format!("'{l}' is not a language code; use ISO 639 like 'en' or 'fre'")));
                }
                Some(l)
            }
            None => None,
        };
        let published = clean(self.published.as_deref());
        let pub_year = published.as_deref().map(parse_published).transpose()?;
        if let Some(p) = self.pages
            && !(1..=100_000).contains(&p)
        {
            return Err(Error::invalid("pages", format!("{p} is not a page count")));
        }
        Ok(ValidTitle {
            sort_title: crate::text::sort_key(&title),
            title,
            subtitle: bounded("subtitle", clean(self.subtitle.as_deref()), 1000)?,
            contributors,
            subjects: clean_list("subjects", &self.subjects)?,
            tags: clean_list("tags", &self.tags)?,
            series: bounded("series", clean(self.series.as_deref()), 500)?,
            series_number: bounded("series_number", clean(self.series_number.as_deref()), 20)?,
            language,
            publisher: bounded("publisher", clean(self.publisher.as_deref()), 500)?,
            published,
            pub_year,
            pages: self.pages,
            isbn,
            lccn: bounded("lccn", clean(self.lccn.as_deref()), 40)?,
            call_number: bounded("call_number", clean(self.call_number.as_deref()), 100)?,
            notes: bounded("notes", clean(self.notes.as_deref()), 20_000)?,
            cover_ref: bounded("cover_ref", clean(self.cover_ref.as_deref()), 500)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Title {
    pub id: TitleId,
    pub title: String,
    pub subtitle: Option<String>,
    pub contributors: Vec<Contributor>,
    pub subjects: Vec<String>,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub series_number: Option<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<String>,
    pub pages: Option<i64>,
    pub isbn13: Option<String>,
    pub isbn10: Option<String>,
    pub lccn: Option<String>,
    pub call_number: Option<String>,
    pub notes: Option<String>,
    pub cover_ref: Option<String>,
    /// Where each field came from and which fields are locked.
    pub field_sources: crate::provenance::FieldSources,
    pub copy_count: i64,
    pub available_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Title {
    pub fn draft(&self) -> TitleDraft {
        TitleDraft {
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            contributors: self.contributors.clone(),
            subjects: self.subjects.clone(),
            tags: self.tags.clone(),
            series: self.series.clone(),
            series_number: self.series_number.clone(),
            language: self.language.clone(),
            publisher: self.publisher.clone(),
            published: self.published.clone(),
            pages: self.pages,
            isbn: self.isbn13.clone(),
            lccn: self.lccn.clone(),
            call_number: self.call_number.clone(),
            notes: self.notes.clone(),
            cover_ref: self.cover_ref.clone(),
        }
    }
}

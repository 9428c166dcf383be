//! The catalogue, members, accounts and circulation records as plain data.
//! `*Draft` types are what a person submits; `validate` turns them into the
//! normalised values the store writes, or a field-level error.

mod accounts;
mod circulation;
mod copies;
mod members;
mod reviews;
mod titles;

pub use accounts::*;
pub use circulation::*;
pub use copies::*;
pub use members::*;
pub use reviews::*;
pub use titles::*;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A collector's own books, or a library with staff and members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StoreMode {
    Collection,
    Library,
}

impl StoreMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreMode::Collection => "collection",
            StoreMode::Library => "library",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "collection" => Some(StoreMode::Collection),
            "library" => Some(StoreMode::Library),
            _ => None,
        }
    }
}

/// Today's date for `now` (UTC; the desk's local date is a UI concern).
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive()
}

pub fn year_of(date: NaiveDate) -> i32 {
    date.year()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn title_validation_normalises_and_reports_the_field() {
        let d = TitleDraft {
            title: "  The Left Hand of Darkness ".into(),
            isbn: Some("0-441-47812-3".into()),
            language: Some("EN".into()),
            published: Some("1969-03".into()),
            subjects: vec!["SF".into(), " sf ".into(), "".into(), "Gender".into()],
            ..Default::default()
        };
        let v = d.validate().unwrap();
        assert_eq!(v.title, "The Left Hand of Darkness");
        assert_eq!(v.sort_title, "left hand of darkness");
        assert_eq!(v.isbn.unwrap().as_str(), "9780441478125");
        assert_eq!(v.language.as_deref(), Some("en"));
        assert_eq!(v.pub_year, Some(1969));
        assert_eq!(v.subjects, vec!["SF", "Gender"]);

        let bad = TitleDraft { title: "x".into(), published: Some("March 1969".into()), ..Default::default() };
        assert!(matches!(bad.validate(), Err(Error::Invalid { field: "published", .. })));
        let bad = TitleDraft { title: " ".into(), ..Default::default() };
        assert!(matches!(bad.validate(), Err(Error::Invalid { field: "title", .. })));
        let bad = TitleDraft { title: "x".into(), isbn: Some("9780441478126".into()), ..Default::default() };
        assert!(matches!(bad.validate(), Err(Error::IsbnChecksum { .. })));
    }

    #[test]
    fn member_validation() {
        let m = MemberDraft {
            card: " m0042 ".into(),
            name: "Ada".into(),
            member_type: "Adult".into(),
            email: Some("ada@example.org".into()),
            ..Default::default()
        };
        let v = m.validate().unwrap();
        assert_eq!((v.card.as_str(), v.member_type.as_str()), ("M0042", "adult"));
        let bad = MemberDraft { email: Some("not-an-email".into()), ..m };
        assert!(matches!(bad.validate(), Err(Error::Invalid { field: "email", .. })));
    }
}

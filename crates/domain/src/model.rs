//! The catalogue, members, accounts and circulation records as plain data.
//! `*Draft` types are what a person submits; `validate` turns them into the
//! normalised values the store writes, or a field-level error.

use crate::error::{Error, Result};
use crate::ids::*;
use crate::isbn::Isbn;
use crate::text::{bounded, clean};
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

// ---------------------------------------------------------------- titles --

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

// ---------------------------------------------------------------- copies --

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct CopyDraft {
    pub barcode: String,
    pub location: Option<String>,
    pub shelf: Option<String>,
    pub condition: Option<String>,
    pub acquired_on: Option<NaiveDate>,
    /// In minor units of `currency` (cents).
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub provenance: Option<String>,
    pub notes: Option<String>,
}

impl CopyDraft {
    pub fn validate(&self) -> Result<CopyDraft> {
        let barcode = crate::text::barcode("barcode", &self.barcode)?;
        if let Some(p) = self.price_cents
            && p < 0
        {
            return Err(Error::invalid("price", "cannot be negative"));
        }
        let currency = match clean(self.currency.as_deref()) {
            Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => Some(c.to_uppercase()),
            Some(c) => return Err(Error::invalid("currency", format!("'{c}' is not a currency code like EUR or USD"))),
            None => None,
        };
        if let Some(d) = self.acquired_on
            && d > Utc::now().date_naive() + chrono::Days::new(1)
        {
            return Err(Error::invalid("acquired_on", "is in the future"));
        }
        Ok(CopyDraft {
            barcode,
            location: bounded("location", clean(self.location.as_deref()), 200)?,
            shelf: bounded("shelf", clean(self.shelf.as_deref()), 200)?,
            condition: bounded("condition", clean(self.condition.as_deref()), 200)?,
            acquired_on: self.acquired_on,
            price_cents: self.price_cents,
            currency,
            provenance: bounded("provenance", clean(self.provenance.as_deref()), 2000)?,
            notes: bounded("notes", clean(self.notes.as_deref()), 5000)?,
        })
    }
}

/// Where a copy is, derived from its circulation events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CopyStatus {
    Available,
    OnLoan,
    OnHoldShelf,
    Lost,
}

impl CopyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CopyStatus::Available => "available",
            CopyStatus::OnLoan => "on_loan",
            CopyStatus::OnHoldShelf => "on_hold_shelf",
            CopyStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "available" => CopyStatus::Available,
            "on_loan" => CopyStatus::OnLoan,
            "on_hold_shelf" => CopyStatus::OnHoldShelf,
            "lost" => CopyStatus::Lost,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Copy {
    pub id: CopyId,
    pub title_id: TitleId,
    pub barcode: String,
    pub location: Option<String>,
    pub shelf: Option<String>,
    pub condition: Option<String>,
    pub acquired_on: Option<NaiveDate>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub provenance: Option<String>,
    pub notes: Option<String>,
    pub status: CopyStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// --------------------------------------------------------------- members --

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct MemberDraft {
    pub card: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// A member type code ("adult", "child", "friend", ...).
    pub member_type: String,
    pub expires_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

impl MemberDraft {
    pub fn validate(&self) -> Result<MemberDraft> {
        let card = crate::text::barcode("card", &self.card)?;
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("name", "is required"));
        }
        if name.chars().count() > 300 {
            return Err(Error::invalid("name", "is longer than 300 characters"));
        }
        let email = clean(self.email.as_deref());
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
                })
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(Error::invalid("email", format!("'{e}' is not an email address")));
            }
        }
        let member_type = self.member_type.trim().to_lowercase();
        if member_type.is_empty() {
            return Err(Error::invalid("member_type", "is required"));
        }
        Ok(MemberDraft {
            card,
            name,
            email,
            phone: bounded("phone", clean(self.phone.as_deref()), 50)?,
            address: bounded("address", clean(self.address.as_deref()), 1000)?,
            member_type,
            expires_on: self.expires_on,
            notes: bounded("notes", clean(self.notes.as_deref()), 5000)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Member {
    pub id: MemberId,
    pub card: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub member_type: String,
    pub expires_on: Option<NaiveDate>,
    pub blocked: bool,
    pub block_reason: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Loan rules for one kind of member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MemberType {
    pub id: MemberTypeId,
    pub code: String,
    pub name: String,
    pub loan_days: u32,
    pub max_renewals: u32,
    pub max_loans: u32,
    /// How long a copy waits on the hold shelf for this member.
    pub hold_pickup_days: u32,
}

impl MemberType {
    pub fn validate(&self) -> Result<()> {
        if self.code.trim().is_empty() || self.code.len() > 40 {
            return Err(Error::invalid("code", "is required (at most 40 characters)"));
        }
        if !(1..=365).contains(&self.loan_days) {
            return Err(Error::invalid("loan_days", "must be between 1 and 365"));
        }
        if self.max_renewals > 100 {
            return Err(Error::invalid("max_renewals", "must be at most 100"));
        }
        if !(1..=1000).contains(&self.max_loans) {
            return Err(Error::invalid("max_loans", "must be between 1 and 1000"));
        }
        if !(1..=60).contains(&self.hold_pickup_days) {
            return Err(Error::invalid("hold_pickup_days", "must be between 1 and 60"));
        }
        Ok(())
    }

    /// The types a new store starts with; staff edit them in settings.
    pub fn defaults() -> Vec<MemberType> {
        let t = |code: &str, name: &str, loan_days, max_renewals, max_loans| MemberType {
            id: MemberTypeId::new(),
            code: code.into(),
            name: name.into(),
            loan_days,
            max_renewals,
            max_loans,
            hold_pickup_days: 7,
        };
        vec![
            t("adult", "Adult", 21, 2, 20),
            t("child", "Child", 14, 2, 10),
            t("staff", "Staff", 28, 5, 50),
            t("friend", "Friend (personal lending)", 30, 1, 10),
        ]
    }
}

// -------------------------------------------------------------- accounts --

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Librarian,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Librarian => "librarian",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "member" => Role::Member,
            "librarian" => Role::Librarian,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub member_id: Option<MemberId>,
    pub created_at: DateTime<Utc>,
}

pub fn validate_username(raw: &str) -> Result<String> {
    let u = raw.trim().to_lowercase();
    if !(2..=64).contains(&u.chars().count()) {
        return Err(Error::invalid("username", "must be 2 to 64 characters"));
    }
    if !u.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(Error::invalid("username", "may contain letters, digits and . _ - @ only"));
    }
    Ok(u)
}

// ----------------------------------------------------------- circulation --

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Loan {
    pub id: EventId,
    pub copy_id: CopyId,
    pub barcode: String,
    pub title_id: TitleId,
    pub title: String,
    pub member_id: MemberId,
    pub card: String,
    pub member_name: String,
    pub out_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub renewals: u32,
    pub returned_at: Option<DateTime<Utc>>,
    pub lost_at: Option<DateTime<Utc>>,
}

impl Loan {
    pub fn is_open(&self) -> bool {
        self.returned_at.is_none() && self.lost_at.is_none()
    }

    /// Days overdue on `today` (0 if not overdue or returned).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        if !self.is_open() {
            return 0;
        }
        (today - self.due_on).num_days().max(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Waiting,
    Ready,
    Fulfilled,
    Cancelled,
    Expired,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Waiting => "waiting",
            HoldStatus::Ready => "ready",
            HoldStatus::Fulfilled => "fulfilled",
            HoldStatus::Cancelled => "cancelled",
            HoldStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "waiting" => HoldStatus::Waiting,
            "ready" => HoldStatus::Ready,
            "fulfilled" => HoldStatus::Fulfilled,
            "cancelled" => HoldStatus::Cancelled,
            "expired" => HoldStatus::Expired,
            _ => return None,
        })
    }

    pub fn is_active(self) -> bool {
        matches!(self, HoldStatus::Waiting | HoldStatus::Ready)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Hold {
    pub id: HoldId,
    pub title_id: TitleId,
    pub title: String,
    pub member_id: MemberId,
    pub card: String,
    pub member_name: String,
    pub placed_at: DateTime<Utc>,
    pub status: HoldStatus,
    /// The copy waiting on the hold shelf, once the hold is ready.
    pub copy_barcode: Option<String>,
    pub expires_on: Option<NaiveDate>,
    /// 1-based place in the title's queue while waiting.
    pub position: Option<u32>,
}

// --------------------------------------------------------------- reviews --

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReadingState {
    WantToRead,
    Reading,
    Read,
    Abandoned,
}

impl ReadingState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadingState::WantToRead => "want_to_read",
            ReadingState::Reading => "reading",
            ReadingState::Read => "read",
            ReadingState::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "want_to_read" => ReadingState::WantToRead,
            "reading" => ReadingState::Reading,
            "read" => ReadingState::Read,
            "abandoned" => ReadingState::Abandoned,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ReadingStatus {
    pub title_id: TitleId,
    pub state: ReadingState,
    pub started_on: Option<NaiveDate>,
    pub finished_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Review {
    pub id: ReviewId,
    pub title_id: TitleId,
    /// `None` for the owner of a personal collection.
    pub member_id: Option<MemberId>,
    pub rating: u8,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn validate_rating(rating: i64) -> Result<u8> {
    if (1..=5).contains(&rating) { Ok(rating as u8) } else { Err(Error::RatingOutOfRange(rating)) }
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
